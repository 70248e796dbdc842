"""One router per resource; :mod:`reference_app.api.app` includes them all."""
