#!/usr/bin/env bash
# Installs the Debian packages Vigie needs: `runtime` for the monitor (libpcap headers to build the
# `pcap` addon), `test` for the test suite and benchmark (tshark and editcap as oracles, ndpiReader
# for the benchmark, tcpdump and iproute2 for the namespace tests; nft, sshd and yanglint for the
# segmentation tests: the plan applied in a router namespace, over ssh, and MUD files checked; faketime to step the daemon's clock in the fault tests). Uses apt when run as root;
# otherwise says exactly what to install.
set -euo pipefail
what=${1:-runtime}
pkgs=(libpcap-dev python3 make g++)
if [ "$what" = test ]; then
  pkgs+=(chromium fonts-dejavu-core tshark libndpi-bin tcpdump tcpreplay iproute2 iputils-ping time mosquitto mosquitto-clients dnsmasq-base isc-dhcp-client bind9-dnsutils ffmpeg openssl curl python3-paho-mqtt
    vsftpd dovecot-imapd dovecot-pop3d python3-aiosmtpd inetutils-telnetd telnet socat ethtool
    nftables libyang2-tools openssh-server openssh-client busybox
    avahi-daemon avahi-utils libcoap3-bin samba-common-bin miniupnpd wsdd
    ngtcp2-client ngtcp2-server coturn stun-client faketime)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "vigie needs Node.js 20 or later (found: $(node --version 2>/dev/null || echo none))." >&2
  echo "Debian 12 ships Node 18: install Node 20 from NodeSource or your distribution's backports." >&2
  exit 1
fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "vigie needs these Debian packages: ${missing[*]}" >&2
  echo "Run this command as root, or install them first: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The tests start their own servers inside namespaces: the packages' system services are not wanted.
for svc in vsftpd dovecot inetutils-inetd ssh avahi-daemon miniupnpd wsdd coturn; do
  if command -v systemctl >/dev/null && systemctl is-active -q "$svc" 2>/dev/null; then systemctl disable -q --now "$svc" || true; fi
done
echo "installed: ${missing[*]}"
