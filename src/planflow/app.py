"""create_app(): the one place where planflow's parts are wired together."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from . import clock, config, db, i18n, installation, resources


def create_app(overrides: Mapping[str, Any] | None = None, instance_path: str | None = None) -> Flask:
    """Build the Flask app from defaults, PLANFLOW_* environment and `overrides`."""
    app = Flask(
        __name__,
        instance_path=instance_path or str(config.default_instance_path()),
        instance_relative_config=True,
        template_folder=str(resources.folder("templates")),
    )
    app.config.update(config.load(Path(app.instance_path), overrides))
    clock.set_zone(app.config["TIMEZONE"])
    installation.configure(app.config)  # the defaults services apply themselves (escalation days)
    db.init_app(app)

    # Words are chosen when read: templates word keys in the reader's language (web.site's `t`,
    # which overrides this default for pages; kept for templates rendered outside a request).
    app.jinja_env.globals["t"] = lambda key, **params: i18n.text(app.config["DEFAULT_LANGUAGE"], key, params)

    from .web import (
        accessibility,
        account,
        admin,
        api,
        auth,
        calendar,
        dialogue,
        inbox,
        notices,
        oidc,
        oversight,
        pages,
        passwords,
        plan,
        processes,
        proposals,
        reports,
        retry,
        saml,
        site,
        upkeep,
    )
    from .web import clock as web_clock

    for blueprint in (
        plan.bp,
        auth.bp,
        inbox.bp,
        notices.bp,
        pages.activities,
        pages.cycles_bp,
        processes.bp,
        oversight.steering,
        oversight.audit_log,
        admin.bp,
        upkeep.bp,
        reports.bp,
        calendar.bp,
        proposals.bp,
        dialogue.bp,
        accessibility.bp,
        passwords.bp,
        account.bp,
    ):
        app.register_blueprint(blueprint)
    oidc.init_app(app)
    saml.init_app(app)
    web_clock.init_app(app)
    site.init_app(app)
    api.init_app(app)  # after the pages' error handlers: its own take /api/v1 and pass the rest on
    retry.init_app(app)  # last: it wraps every view there is
    return app
