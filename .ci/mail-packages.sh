#!/usr/bin/env bash
# Debian's Postfix and Dovecot binaries for the live-check tests, which run private instances
# of them (tests/check/mail_instances.py). Installs only what is missing and neither configures
# nor starts the system's servers: debconf gets "No configuration" for Postfix, and a temporary
# policy-rc.d keeps the packages' start scripts from starting anything. Needs root.
set -euo pipefail

have() {
    command -v postfix >/dev/null && command -v dovecot >/dev/null \
        && [ -e /usr/lib/dovecot/imap ] && [ -e /usr/lib/dovecot/pop3 ] \
        && command -v openssl >/dev/null && command -v ss >/dev/null
}

have && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "mail-packages: run as root to install postfix, dovecot-imapd, dovecot-pop3d" >&2
    exit 1
fi
policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    policy=yes
fi
trap '[ -n "$policy" ] && rm -f /usr/sbin/policy-rc.d' EXIT
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    postfix dovecot-imapd dovecot-pop3d openssl iproute2 >/dev/null
echo "mail-packages: postfix and dovecot installed (not configured, not started)"
