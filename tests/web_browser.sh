# The web page in a real browser (web_browser.py), or a skip that says why not.
#   web_browser.sh MNEMO SHOTS_DIR
if ! command -v python3 >/dev/null; then
  echo "skip: python3 is not installed (tools/install-deps.sh installs it)"
  exit 77
fi
exec python3 "$(dirname "$0")/web_browser.py" "$@"
