"""Where the tests find the repository and their fixture files, whatever folder a test is in."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the repository
TESTS = ROOT / "tests"
GUIDANCE = ROOT.parent / "shared" / "guidance" / "lumbar-rfd-guidance.txt"  # beside a checkout
