"""Suite-wide settings."""

from __future__ import annotations

import os

from hypothesis import settings

# In CI the property tests draw the same examples on every run, so a red build is reproducible;
# on a developer's machine they explore new examples each time.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
