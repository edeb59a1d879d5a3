"""The web app (`review serve`): head teachers, visiting heads, schools and facilitators sign
in by e-mail link and do their part of the cycle in a browser; a JSON API under /api/v1.

Handlers parse a request, call a service as the signed-in person and render a page: no SQL
here, and what a person may see or do comes from the same policy as the CLI. `app.py` builds
the application; `session.py` turns the cookie into the acting person; `security.py` holds
CSRF and the response headers; `rendering.py` the one Jinja environment over templates/web/;
`pages/` has one module per part of the cycle.
"""
