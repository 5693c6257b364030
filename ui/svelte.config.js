// Svelte 5 compiles `<script lang="ts">` itself (type annotations are stripped): no preprocessor.
export default {
  compilerOptions: { runes: true },
};
