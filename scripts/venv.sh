# Sourced by the scripts here: create/use the Python virtual environment and install packages.
#   qqq_venv PKG...   ensures <repo>/.venv (or $QQQ_VENV) exists, pip-installs the PKGs that are
#                     not importable yet, and sets PY to its python.
# Package "torch" comes from the local CPU wheel in /opt/wheels when present (else PyPI).

qqq_venv() {
    local repo venv
    repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
    venv="${QQQ_VENV:-$repo/.venv}"
    if [[ ! -x "$venv/bin/python" ]]; then
        echo "venv: creating $venv" >&2
        python3 -m venv "$venv" || { echo "venv: python3 -m venv failed" >&2; return 1; }
    fi
    PY="$venv/bin/python"
    local missing=() pkg mod
    for pkg in "$@"; do
        mod="$pkg"
        [[ "$pkg" == "pyyaml" ]] && mod="yaml"
        "$PY" -c "import $mod" 2>/dev/null || missing+=("$pkg")
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    local args=() whl
    for pkg in "${missing[@]}"; do
        if [[ "$pkg" == "torch" ]]; then
            whl="$(ls /opt/wheels/torch-*cpu*.whl 2>/dev/null | head -n1 || true)"
            if [[ -n "$whl" ]]; then args+=("$whl"); else args+=("torch"); fi
        else
            args+=("$pkg")
        fi
    done
    echo "venv: installing ${args[*]}" >&2
    "$PY" -m pip install --quiet --disable-pip-version-check "${args[@]}" \
        || { echo "venv: pip install ${args[*]} failed" >&2; return 1; }
}
