"""Dashboard pages: each module has ``layout(ctx, lang, **params)`` and ``register(app, ctx)``."""
