#!/bin/sh
# Writes the AMI secret of the `callrouter` user (dialplans/manager.conf reads
# manager.d/*.conf last) from CALLROUTER_AMI_SECRET, then starts Asterisk.
set -eu

if [ -z "${CALLROUTER_AMI_SECRET:-}" ]; then
    echo "asterisk: CALLROUTER_AMI_SECRET is not set; the callrouter AMI user needs it" >&2
    exit 1
fi
case "$CALLROUTER_AMI_SECRET" in
    *[![:alnum:]_.+/=-]*)
        echo "asterisk: CALLROUTER_AMI_SECRET may only hold letters, digits and _.+/=-" >&2
        exit 1
        ;;
esac

umask 077
printf '[callrouter](+)\nsecret = %s\n' "$CALLROUTER_AMI_SECRET" \
    > /etc/asterisk/manager.d/callrouter-secret.conf

exec "$@"
