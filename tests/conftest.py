import sys
from pathlib import Path

# tests import reference.py and harness.py as plain modules
sys.path.insert(0, str(Path(__file__).resolve().parent))
