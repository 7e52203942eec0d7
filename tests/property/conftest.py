"""Property tests: hypothesis draws valid sites (strategies.py); VMS_PROPERTY_EXAMPLES sets how many.

This directory is a package (its conftest must not shadow tests/unit's `conftest` module when one
pytest session collects both), so its own modules are put on the path here.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
