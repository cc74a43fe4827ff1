"""bandit, the static security checker, finds nothing in the app's code; the checks it skips
are listed, each with its reason, in pyproject.toml's [tool.bandit] (see SECURITY.md)."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_bandit_finds_nothing_in_the_apps_code():
    result = subprocess.run([sys.executable, "-m", "bandit", "-c", "pyproject.toml", "-q", "-r",
                             "community", "api", "realtime"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
