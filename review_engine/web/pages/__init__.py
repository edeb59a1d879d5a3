"""One module per part of the site; each has a `router` that `app.create_app` includes."""
