#!/usr/bin/env bash
# Regenerates the hotline's French prompts (fr/callrouter/) and its hold music (moh/), which
# are committed: run it after changing a text below, then commit the files it writes.
# Needs espeak-ng and sox (Debian/Ubuntu: apt-get install espeak-ng sox libsox-fmt-all).
# Files are GSM (8 kHz mono, 1.6 kB per second): Asterisk plays them without transcoding
# to telephone channels, and the whole set stays small.
# Usage: dialplans/sounds/generate.sh [OUTPUT_DIR]   (default: this folder)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here}
for tool in espeak-ng sox; do
    command -v "$tool" >/dev/null || { echo "generate.sh: $tool is not installed" >&2; exit 2; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out/fr/callrouter" "$out/moh"

# -R: sox seeds its dither with a fixed number, so the same text gives the same file
to_gsm() {  # input.wav output.gsm [effects...]
    local input=$1 output=$2
    shift 2
    sox -R "$input" -r 8000 -c 1 "$output" "$@"
}

# A prompt: French synthetic voice, slower than espeak-ng's default for the telephone.
prompt() {  # name text
    espeak-ng -v fr -s 140 -w "$work/$1.wav" "$2"
    to_gsm "$work/$1.wav" "$out/fr/callrouter/$1.gsm" highpass 200 norm -3
}

prompt bienvenue "Bienvenue sur la hotline d'assistance technique."
prompt numero-compte "Tapez votre numéro de compte, suivi de la touche dièse. Si vous êtes bénéficiaire d'un compte et appelez du numéro enregistré, tapez seulement dièse."
prompt code-pin "Tapez votre code d'accès téléphonique, suivi de la touche dièse."
prompt choix-pass "Pour le Pass 4 heures, tapez 1. Pour le Pass rendez-vous, tapez 2. Pour le Pass Prioritaire, tapez 3."
prompt code-incorrect "Numéro de compte ou code d'accès incorrect."
prompt closed-hours "Le service est actuellement fermé."
prompt refused "Nous ne pouvons pas donner suite à votre appel."
prompt insufficient-balance "Le solde de votre compte est insuffisant. Vous pouvez le recharger sur votre espace client."
prompt reouverture "Le service rouvrira"
prompt a "à"
prompt aucun-agent "Aucun conseiller n'est disponible. Merci de rappeler ultérieurement."
prompt rappel-programme "Un expert vous rappellera. Au revoir."
prompt annonce-rappel "Rappel d'un client de la hotline. Restez en ligne, nous appelons le client."
prompt annonce-rendez-vous "Rendez-vous d'assistance de la hotline. Restez en ligne, nous appelons le client."
prompt astreinte-confirmer "Appel d'urgence de la hotline. Pour le prendre, tapez 1."
prompt astreinte-message "Aucun technicien d'astreinte n'a pu vous répondre. Laissez votre message après le bip : nous vous rappellerons."

# Hold music: a slow plucked arpeggio (C, Am, F, G), 12 s, played in a loop by Asterisk.
notes=(C4 E4 G4 C5 G4 E4 A3 C4 E4 A4 E4 C4 F3 A3 C4 F4 C4 A3 G3 B3 D4 G4 D4 B3)
parts=()
for index in "${!notes[@]}"; do
    part=$(printf '%s/note-%02d.wav' "$work" "$index")
    sox -R -n -r 8000 -c 1 -b 16 "$part" synth 0.5 pluck "${notes[$index]}" fade 0 0.5 0.35
    parts+=("$part")
done
sox -R "${parts[@]}" "$work/hold.wav"
to_gsm "$work/hold.wav" "$out/moh/callrouter-hold.gsm" norm -6
