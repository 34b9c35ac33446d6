#!/usr/bin/env bash
# Postfix (25, 465, 587) and Dovecot (143, 993, 110, 995) on 127.0.0.1 only, for the live-check
# tests. Installs the Debian packages if missing, writes a test CA and a certificate for
# mail.example.net, configures both servers for loopback, starts them and waits until every port
# answers. Idempotent: a second run leaves running servers alone. Needs root.
set -euo pipefail

DIR=/etc/mailport-ci
PORTS=(25 465 587 143 993 110 995)
HOST=mail.example.net
LOG=/var/log/mailport-ci-start.log

answers() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

all_answer() {
    local port
    for port in "${PORTS[@]}"; do answers "$port" || return 1; done
}

install_packages() {
    command -v postfix >/dev/null && command -v dovecot >/dev/null \
        && [ -e /usr/lib/dovecot/imap ] && [ -e /usr/lib/dovecot/pop3 ] && return
    local temp_policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        # Keep the packages' own start scripts from starting servers on every interface.
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        temp_policy=yes
    fi
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        postfix dovecot-imapd dovecot-pop3d openssl >/dev/null
    if [ -n "$temp_policy" ]; then rm -f /usr/sbin/policy-rc.d; fi
}

make_certificates() {
    [ -s "$DIR/cert.pem" ] && [ -s "$DIR/ca.pem" ] && return
    mkdir -p "$DIR"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
        -subj "/O=mailport CI/CN=mailport CI test CA" \
        -keyout "$DIR/ca.key" -out "$DIR/ca.pem" 2>/dev/null
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -subj "/CN=$HOST" -keyout "$DIR/key.pem" -out "$DIR/cert.csr" 2>/dev/null
    printf 'subjectAltName=DNS:%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' \
        "$HOST" >"$DIR/cert.ext"
    openssl x509 -req -in "$DIR/cert.csr" -CA "$DIR/ca.pem" -CAkey "$DIR/ca.key" \
        -CAcreateserial -days 825 -extfile "$DIR/cert.ext" -out "$DIR/cert.pem" 2>/dev/null
    chmod 600 "$DIR/key.pem" "$DIR/ca.key"
}

configure_postfix() {
    [ -s /etc/postfix/main.cf ] || cp /usr/share/postfix/main.cf.debian /etc/postfix/main.cf
    echo "$HOST" >/etc/mailname
    postconf -e \
        "inet_interfaces = 127.0.0.1" \
        "inet_protocols = ipv4" \
        "myhostname = $HOST" \
        "mydestination =" \
        "relayhost =" \
        "smtpd_banner = \$myhostname ESMTP mailport-ci" \
        "smtpd_tls_cert_file = $DIR/cert.pem" \
        "smtpd_tls_key_file = $DIR/key.pem" \
        "smtpd_tls_security_level = may" \
        "smtpd_tls_auth_only = yes" \
        "smtpd_sasl_type = dovecot" \
        "smtpd_sasl_path = private/auth" \
        "maillog_file = /var/log/postfix-mailport-ci.log"
    postconf -M "submission/inet=submission inet n - n - - smtpd" \
        "smtps/inet=smtps inet n - n - - smtpd"
    postconf -P "submission/inet/smtpd_tls_security_level=encrypt" \
        "submission/inet/smtpd_sasl_auth_enable=yes" \
        "smtps/inet/smtpd_tls_wrappermode=yes" \
        "smtps/inet/smtpd_sasl_auth_enable=yes"
    postconf -F "*/*/chroot = n"
    newaliases
}

configure_dovecot() {
    mkdir -p /run/dovecot-mailport-ci /var/lib/mailport-ci/mail
    : >"$DIR/users"
    cat >"$DIR/dovecot.conf" <<EOF
protocols = imap pop3
listen = 127.0.0.1
base_dir = /run/dovecot-mailport-ci/
log_path = /var/log/dovecot-mailport-ci.log
ssl = yes
ssl_cert = <$DIR/cert.pem
ssl_key = <$DIR/key.pem
ssl_dh = </usr/share/dovecot/dh.pem
disable_plaintext_auth = yes
auth_mechanisms = plain login
mail_location = maildir:/var/lib/mailport-ci/mail/%u
passdb {
  driver = passwd-file
  args = $DIR/users
}
userdb {
  driver = passwd-file
  args = $DIR/users
}
service imap-login {
  inet_listener imap {
    port = 143
  }
  inet_listener imaps {
    port = 993
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    port = 110
  }
  inet_listener pop3s {
    port = 995
    ssl = yes
  }
}
service auth {
  unix_listener /var/spool/postfix/private/auth {
    mode = 0660
    user = postfix
    group = postfix
  }
}
EOF
}

# The daemons get their own stdio so they never hold the caller's pipes open. A running
# Postfix is restarted, not reloaded: a reload keeps its old listening addresses.
start_servers() {
    if postfix status >/dev/null 2>&1; then
        postfix stop </dev/null >>"$LOG" 2>&1
    fi
    postfix start </dev/null >>"$LOG" 2>&1 || { tail -20 "$LOG" >&2; exit 1; }
    if [ -e /run/dovecot-mailport-ci/master.pid ] \
        && kill -0 "$(cat /run/dovecot-mailport-ci/master.pid)" 2>/dev/null; then
        doveadm -c "$DIR/dovecot.conf" reload </dev/null >>"$LOG" 2>&1
    else
        dovecot -c "$DIR/dovecot.conf" </dev/null >>"$LOG" 2>&1 || { tail -20 "$LOG" >&2; exit 1; }
    fi
}

wait_for_ports() {
    local port tries
    for port in "${PORTS[@]}"; do
        for tries in $(seq 1 60); do
            answers "$port" && break
            [ "$tries" = 60 ] && { echo "mail-servers: nothing answers on 127.0.0.1:$port" >&2; exit 1; }
            sleep 0.5
        done
    done
}

loopback_only() {
    local port wide
    for port in "${PORTS[@]}"; do
        wide=$(ss -Hltn "sport = :$port" | awk '{print $4}' | grep -v '^127\.' || true)
        if [ -n "$wide" ]; then
            echo "mail-servers: port $port is open beyond loopback: $wide" >&2
            exit 1
        fi
    done
}

if [ "$(id -u)" != 0 ]; then
    echo "mail-servers: run as root (installs packages, binds ports below 1024)" >&2
    exit 1
fi
if all_answer && [ -s "$DIR/dovecot.conf" ]; then
    loopback_only
    exit 0
fi
install_packages
make_certificates
configure_postfix
configure_dovecot
start_servers
wait_for_ports
loopback_only
echo "mail-servers: Postfix and Dovecot answer on 127.0.0.1 (${PORTS[*]})"
