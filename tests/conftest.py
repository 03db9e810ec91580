import os

from hypothesis import HealthCheck, settings

pytest_plugins = ["pytester"]

# Deterministic and CI-friendly: no wall-clock deadlines, a fixed example budget.
settings.register_profile("quirktape", deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "quirktape"))
