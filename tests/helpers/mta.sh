#!/bin/sh
# mta.sh — a private Postfix on loopback for tests and benchmarks, run so that nothing outside
# its own directory changes: no edit of /etc/postfix, /etc/sasldb2 or any other system file.
#
#   mta.sh start DIR PORT [options]   start an instance; returns once PORT answers
#   mta.sh stop DIR                   stop it (safe to call twice, or after a failed start)
#   mta.sh exec DIR CMD [ARG...]      run CMD where the instance's configuration is the
#                                     system's (sendmail, postqueue -f, postconf, mailq ...)
#   mta.sh pid DIR                    the master's process id
#
# Options of start (each may be repeated):
#   --pki PKIDIR        server.pem and server.key for STARTTLS (default: a throwaway PKI made
#                       with mailsend-pki.sh in DIR/pki; its ca.pem verifies the server)
#   --domain D          a virtual mailbox domain (default: example.org)
#   --mailbox ADDR      a Maildir for ADDR at DIR/Maildir/ADDR/ (default: alice@, bob@ and
#                       carol@ the first domain)
#   --user NAME:PASS    a Cyrus SASL login (default: alice:wonderland)
#   --main 'K = V'      a line appended to main.cf (later lines override earlier ones)
#   --master 'LINES'    lines appended to master.cf (a service with its "-o" lines)
#   --hostname NAME     myhostname (default: mta.example.org)
#
# What the instance is: smtpd on 127.0.0.1:PORT with STARTTLS (smtpd_tls_security_level =
# may, AUTH only over TLS: smtpd_tls_auth_only) and Cyrus SASL AUTH PLAIN, LOGIN and
# SCRAM-SHA-256 against DIR/sasldb2; relaying for authenticated clients only; every mailbox
# delivered by virtual(8) into its Maildir (owned by postfix); the log in DIR/maillog; queue
# and data directories in DIR. DIR must be traversable by the postfix user (e.g. a
# mktemp -d under /tmp made 0755).
#
# How nothing else changes: the master runs in a private mount namespace (unshare --mount
# --propagation private) in which DIR/etc is bind-mounted over /etc/postfix and DIR/sasldb2 over
# /etc/sasldb2 (where that file exists). Inside, the instance's configuration is the default
# one, so Postfix's alternate_config_directories rule is met there without listing anything
# in the real /etc/postfix/main.cf; its daemons, and commands started with `mta.sh exec`,
# see only the copies. Outside the namespace the mounts do not exist, so a crash or a killed
# test leaves /etc exactly as it was (tests/mailsend-mta.bats checks bytes and ctimes).
#
# Needs: root (Postfix changes to its own users; mounts), util-linux unshare/nsenter,
# postfix, sasl2-bin and libsasl2-modules (scripts/deps.d/mailsend), python3. As another
# user it exits 77 with a message saying so.
set -eu
umask 022	# Postfix's own users read the queue and configuration made here
here=$(cd "$(dirname "$0")" && pwd)

die() { echo "mta.sh: $*" >&2; exit 1; }

master_pid() {	# the running master's pid, or nothing
	f=$1/spool/pid/master.pid
	[ -f "$f" ] || return 0
	p=$(tr -d ' \n' <"$f")
	[ -n "$p" ] && kill -0 "$p" 2>/dev/null && echo "$p"
	return 0
}

stop() {
	d=$1
	p=$(master_pid "$d")
	[ -n "$p" ] || return 0
	# `postfix stop` in the instance's namespace (it reads the instance's configuration);
	# the master ends its children, then itself.
	nsenter --mount --target "$p" postfix stop >/dev/null 2>&1 || kill "$p" 2>/dev/null || true
	for _ in $(seq 100); do
		kill -0 "$p" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -9 "$p" 2>/dev/null || true
}

case ${1:-} in
stop)
	[ $# -eq 2 ] || die "usage: mta.sh stop DIR"
	stop "$2"
	exit 0
	;;
pid)
	[ $# -eq 2 ] || die "usage: mta.sh pid DIR"
	p=$(master_pid "$2")
	[ -n "$p" ] || die "no instance running in $2"
	echo "$p"
	exit 0
	;;
exec)
	[ $# -ge 3 ] || die "usage: mta.sh exec DIR CMD [ARG...]"
	p=$(master_pid "$2")
	[ -n "$p" ] || die "no instance running in $2"
	shift 2
	exec nsenter --mount --target "$p" -- "$@"
	;;
start) ;;
*) die "usage: mta.sh start DIR PORT [options] | stop DIR | exec DIR CMD... | pid DIR" ;;
esac

[ $# -ge 3 ] || die "usage: mta.sh start DIR PORT [options]"
d=$2 port=$3
shift 3
if [ "$(id -u)" != 0 ]; then
	echo "mta.sh: a private Postfix needs root (mount namespace, Postfix's own users); not running as root" >&2
	exit 77
fi
for c in postfix saslpasswd2 unshare nsenter python3; do
	command -v "$c" >/dev/null || die "$c is not installed (scripts/install-deps)"
done
case $port in *[!0-9]*|'') die "bad port $port" ;; esac

pki="" host=mta.example.org
domains="" mailboxes="" users="" mainx="" masterx=""
nl='
'
while [ $# -gt 0 ]; do
	[ $# -ge 2 ] || die "$1 needs a value"
	case $1 in
	--pki) pki=$2 ;;
	--domain) domains="$domains $2" ;;
	--mailbox) mailboxes="$mailboxes $2" ;;
	--user) users="$users $2" ;;
	--main) mainx="$mainx$2$nl" ;;
	--master) masterx="$masterx$2$nl" ;;
	--hostname) host=$2 ;;
	*) die "unknown option $1" ;;
	esac
	shift 2
done
[ -n "$domains" ] || domains=example.org
set -- $domains
first=$1
[ -n "$mailboxes" ] || mailboxes="alice@$first bob@$first carol@$first"
[ -n "$users" ] || users="alice:wonderland"

[ -z "$(master_pid "$d")" ] || die "an instance already runs in $d"
mkdir -p "$d"
chmod 755 "$d"
# A start that fails half-way leaves no process behind.
trap 'rc=$?; [ $rc -eq 0 ] || stop "$d"; exit $rc' EXIT
trap 'exit 1' INT TERM HUP

# the instance's own configuration directory (bind-mounted over /etc/postfix below)
inst_etc=$d/etc
rm -rf "$inst_etc" "$d/spool" "$d/data"
mkdir -p "$inst_etc/sasl" "$d/spool" "$d/data" "$d/Maildir"
if [ -z "$pki" ]; then
	pki=$d/pki
	"$here/mailsend-pki.sh" "$pki"
fi
# The meta files Postfix reads from its default configuration directory (postfix-script,
# postfix-files, dynamicmaps.cf ...): copies, so that the bind mount hides nothing it needs.
cp -a /etc/postfix/. "$inst_etc/"
rm -f "$inst_etc/main.cf" "$inst_etc/master.cf"
rm -rf "$inst_etc/sasl" && mkdir -p "$inst_etc/sasl"
cp "$pki/server.pem" "$pki/server.key" "$inst_etc/"
chmod 600 "$inst_etc/server.key"
chown postfix "$d/data" "$d/Maildir"
uid=$(id -u postfix) gid=$(id -g postfix)

: >"$inst_etc/vmailbox"
for a in $mailboxes; do
	printf '%s %s/\n' "$a" "$a" >>"$inst_etc/vmailbox"
done

cat >"$inst_etc/main.cf" <<EOC
# written by tests/helpers/mta.sh for a private test instance
compatibility_level = 3.6
queue_directory = $d/spool
data_directory = $d/data
mail_owner = postfix
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = $host
mydestination =
mynetworks = 127.0.0.0/8
virtual_mailbox_domains = $(echo $domains | tr ' ' ',')
virtual_mailbox_base = $d/Maildir
virtual_mailbox_maps = texthash:$inst_etc/vmailbox
virtual_uid_maps = static:$uid
virtual_gid_maps = static:$gid
smtpd_tls_cert_file = $inst_etc/server.pem
smtpd_tls_key_file = $inst_etc/server.key
smtpd_tls_security_level = may
smtpd_tls_auth_only = yes
smtpd_sasl_auth_enable = yes
smtpd_sasl_path = smtpd
smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
smtpd_recipient_restrictions = permit_sasl_authenticated, reject_unauth_destination
smtputf8_enable = yes
maillog_file = $d/maillog
maillog_file_prefixes = $d
message_size_limit = 10240000
biff = no
alias_maps =
alias_database =
$mainx
EOC

# Every service unchrooted (the instance lives in a temp directory); smtpd on PORT.
cat >"$inst_etc/master.cf" <<EOC
$port inet  n       -       n       -       -       smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
$masterx
EOC

# Cyrus SASL as smtpd uses it: Debian's Postfix reads $config_directory/sasl/smtpd.conf,
# which inside the namespace is this one.
cat >"$inst_etc/sasl/smtpd.conf" <<EOC
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN SCRAM-SHA-256
sasldb_path: $d/sasldb2
EOC
rm -f "$d/sasldb2"
for u in $users; do
	printf '%s\n' "${u#*:}" | saslpasswd2 -f "$d/sasldb2" -p -c -u "$host" "${u%%:*}"
done
chgrp postfix "$d/sasldb2"
chmod 640 "$d/sasldb2"

# The namespace: bind mounts, then `postfix start`; the master daemonises and keeps the
# namespace alive. /etc/sasldb2 is covered too (where it exists) in case a SASL plugin
# ignores sasldb_path.
rm -f "$d/maillog" "$d/start.log"
: >"$d/maillog"
chown postfix "$d/maillog" 2>/dev/null || true
if ! unshare --mount --propagation private sh -c '
	set -e
	d=$1
	mount --bind "$d/etc" /etc/postfix
	if [ -f /etc/sasldb2 ]; then mount --bind "$d/sasldb2" /etc/sasldb2; fi
	postfix check
	postfix start
' mta.sh "$d" >"$d/start.log" 2>&1; then
	cat "$d/start.log" "$d/maillog" >&2 2>/dev/null || true
	die "postfix did not start"
fi
for _ in $(seq 100); do
	if python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1).close()" 2>/dev/null; then
		exit 0
	fi
	sleep 0.1
done
cat "$d/start.log" "$d/maillog" >&2 2>/dev/null || true
die "postfix did not listen on port $port"
