"""Unit tests of SDK error tables need the SDK: without the extra, they are not collected.

CI runs the unit suite once with only the base install, where ``test_missing_extras.py``
checks the install hint against the genuinely missing packages instead.
"""

from __future__ import annotations

from importlib.util import find_spec

collect_ignore = [
    name
    for name, module in (("test_vault_errors.py", "hvac"), ("test_aws_errors.py", "botocore"))
    if find_spec(module) is None
]
