"""The steps of the site's build, one module each; :mod:`docsite.plugin` runs them in order."""
