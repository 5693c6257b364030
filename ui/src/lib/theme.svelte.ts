// Light, dark, or as the system says; remembered in this browser only.
type Theme = 'light' | 'dark' | 'system';
export const theme = $state({ value: (localStorage.getItem('vigie-theme') as Theme | null) ?? 'system', dark: false });

export function applyTheme(): void {
  theme.dark = theme.value === 'dark' || (theme.value === 'system' && matchMedia('(prefers-color-scheme: dark)').matches);
  document.documentElement.dataset.theme = theme.dark ? 'dark' : 'light';
}

export function setTheme(t: Theme): void {
  theme.value = t;
  if (t === 'system') localStorage.removeItem('vigie-theme');
  else localStorage.setItem('vigie-theme', t);
  applyTheme();
}

matchMedia('(prefers-color-scheme: dark)').addEventListener('change', applyTheme);
