"""What every page shares: no control characters in a request, sign-in, CSRF, the reader's language
and dates, the header's inbox count and menu, security headers and friendly error pages. `init_app`
wires it into the app."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from babel.dates import format_date, format_datetime
from flask import Flask, Response, abort, current_app, g, render_template, request, session
from flask_login import LoginManager, UserMixin, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from markupsafe import Markup, escape
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from .. import clock, i18n
from ..db import get_db
from ..i18n import Message
from ..services.authority import access, people, sessions
from ..services.authority.access import UseCase
from ..services.chain import tasks
from ..services.errors import Forbidden, ServiceError
from ..services.outputs import notices
from ..services.records.audit import OPERATOR, SYSTEM
from . import control_characters
from .http_status import status_of

if TYPE_CHECKING:  # the row services hand back, named for the type checker only
    from ..models import User

csrf = CSRFProtect()
login_manager = LoginManager()
SESSION_TOKEN = "sid"  # the Flask session's key for the token of the session kept on the server

# No inline script or style anywhere: everything comes from /static.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


@dataclass(frozen=True)
class WebUser(UserMixin):  # type: ignore[misc]
    """The signed-in person as a page knows it between requests (no ORM object outlives its
    session); services get the User row through `me(session)`."""

    id: int
    username: str
    display_name: str
    language: str


def me(db_session: Session) -> User:
    """The signed-in user's row in `db_session` (a page's transaction or reading)."""
    user = people.active_user(db_session, current_user.id)
    if user is None:
        abort(403)
    return user


def language() -> str:
    """The reader's language: the signed-in user's choice, else the visitor's, else Swedish."""
    if "language" not in g:
        chosen = current_user.language if current_user.is_authenticated else session.get("language")
        g.language = i18n.language_or_default(chosen or None)
    return str(g.language)


def t(key: str, **params: Any) -> str:
    """The words for `key` in the reader's language. A parameter that is markup (plan content
    marked by `sv`) stays markup, and so do the words around it, escaped."""
    if any(isinstance(value, Markup) for value in params.values()):
        words = {k: v if isinstance(v, Markup) else i18n.word(language(), v) for k, v in params.items()}
        return Markup(escape(i18n.text(language(), key))) % words
    return i18n.text(language(), key, params)


PLAN_LANGUAGE = i18n.PLAN_LANGUAGE


def sv(content: object) -> Markup:
    """Plan content in Swedish, marked so on a page in another language (`<span lang="sv">`, so a
    screen reader says it in Swedish and nobody takes it for a missing translation); unmarked on
    a Swedish page. Nothing to show shows nothing."""
    if content is None or content == "":
        return Markup("")
    if language() == PLAN_LANGUAGE:
        return escape(content)
    return Markup('<span lang="%s">%s</span>') % (PLAN_LANGUAGE, content)


def quote(words: str, words_language: str) -> Markup:
    """Words quoted in their own language (i18n.quoted: the plan's Swedish in a notice), marked
    with it on a page in another language."""
    if words_language == language():
        return escape(words)
    return Markup('<span lang="%s">%s</span>') % (words_language, words)


def sv_lang() -> Markup:
    """The attribute that marks an element holding plan content only (an `<option>`, where no
    span may stand) on a page in another language: ` lang="sv"`, else nothing."""
    return Markup("") if language() == PLAN_LANGUAGE else Markup(' lang="%s"') % PLAN_LANGUAGE


def area_words(title: str) -> str:
    """An intervention area as the plan says it, plain: its words complete a sentence about the
    municipality ("Kommunen erbjuder mötesplatser …"), said whole in the plan's language."""
    return f"{i18n.text(PLAN_LANGUAGE, 'ui.plan.municipality')} {title}"


def area_sentence(title: str) -> Markup:
    """An intervention area as the plan says it (`area_words`), marked as plan content."""
    return sv(area_words(title))


def action_words(action: str) -> str:
    """An audit action in the reader's words (the trail keeps its key). A task completed without a
    domain record of its own is recorded as `task.<name>` (services.steps): "Task done: <title>"."""
    if i18n.known(f"audit.action.{action}"):
        return t(f"audit.action.{action}")
    task = action.removeprefix("task.")
    if task != action and i18n.known(f"task.{task}"):
        return t("audit.action.task_done", task={"key": f"task.{task}"})
    return action


def subject_words(kind: str, ident: str) -> str:
    """What an audit event is about, in the reader's words: "Aktivitet 1.1.1"."""
    return t(f"audit.subject.{kind}", id=ident) if i18n.known(f"audit.subject.{kind}") else f"{kind} {ident}"


def actor_words(actor: str, name: str | None = None) -> str:
    """Who acted: a person by name with the username the trail keeps ("Anna Nilsson (anna.nilsson)"),
    or the trail's names for the schedule and the command line."""
    if actor in (SYSTEM, OPERATOR):
        return t(f"audit.actor.{actor}")
    return f"{name} ({actor})" if name and name != actor else actor


def long_date(value: date | datetime | None) -> str:
    """A date in the reader's language, Swedish form by default: 19 juni 2026 (Stockholm time)."""
    if value is None:
        return "–"
    if isinstance(value, datetime):
        value = clock.local(value).date()
    return _day(value, language())


@lru_cache(maxsize=4096)
def _day(value: date, language: str) -> str:
    """A day's words depend on the day and the language only: a page of 50 due dates formats
    each once per process, not once per row and request."""
    return format_date(value, "d MMMM y", locale=language)


def date_time(value: datetime | None) -> str:
    if value is None:
        return "–"
    return format_datetime(value, "d MMMM y HH:mm", tzinfo=clock.zone(), locale=language())


def today() -> date:
    return clock.today()


def may(use_case: UseCase) -> bool:
    """Whether the signed-in user may carry out `use_case`, a scoped one (proposing an activity) in
    at least one focus area: `access.abilities`, read once per request (the menu asks for every use
    case on every page), the same answer GET /api/v1/me gives."""
    if not current_user.is_authenticated:
        return False
    if "abilities" not in g:
        _read_standing()
    return use_case in g.abilities


def know(db_session: Session, standing: access.Standing) -> None:
    """Keep for this request what every page's header needs, from a standing a page has read in
    its own session: what the user may do (access.abilities), the inbox count and the count of
    unread notices."""
    g.abilities = access.abilities(db_session, standing)
    g.inbox_count = tasks.inbox_count(db_session, standing)
    g.unread_notices = notices.unread_count(db_session, standing.user)


def _read_standing() -> None:
    with get_db().reading() as db_session:
        know(db_session, access.standing(db_session, me(db_session)))


def scopes(use_case: UseCase) -> set[int]:
    """The focus areas (ids) in which the signed-in user may carry out a scoped `use_case`."""
    return set(g.abilities.scopes.get(use_case, ())) if may(use_case) else set()


def require(use_case: UseCase) -> None:
    """Refuse the page (403 in the layout, saying why) unless the signed-in user may."""
    if not may(use_case):
        raise Forbidden(
            "error.access.use_case",
            user=current_user.username,
            use_case={"key": f"access.use_case.{use_case}"},
        )


# The header's menu: endpoint, catalog key, and who sees it (None: everyone signed in; several use
# cases: whoever may any of them). An entry shows only when its blueprint is registered and the
# authority lets the reader in.
MENU: list[tuple[str, str, UseCase | tuple[UseCase, ...] | None]] = [
    ("plan.index", "ui.nav.plan", None),
    ("inbox.index", "ui.nav.inbox", None),
    ("notices.index", "ui.nav.notices", None),
    ("proposals.index", "ui.nav.proposals", UseCase.PROPOSE_ACTIVITY),
    ("dialogue.index", "ui.nav.dialogue", (UseCase.GIVE_DIALOGUE_FEEDBACK, UseCase.READ_DIALOGUE_FEEDBACK)),
    ("cycles.index", "ui.nav.cycles", UseCase.READ_INTERNAL),
    ("steering.index", "ui.nav.steering", UseCase.READ_STEERING_QUEUE),
    ("audit_log.index", "ui.nav.audit", UseCase.READ_INTERNAL),
    ("reports.index", "report.index.title", UseCase.READ_INTERNAL),
    ("admin.index", "ui.nav.admin", UseCase.MANAGE_PEOPLE),
    ("upkeep.index", "ui.nav.upkeep", UseCase.EDIT_PLAN),
]


def menu() -> list[tuple[str, str]]:
    from flask import current_app

    return [
        (endpoint, key)
        for endpoint, key, use_case in MENU
        if endpoint in current_app.view_functions and may_any(use_case)
    ]


def may_any(use_cases: UseCase | tuple[UseCase, ...] | None) -> bool:
    """Whether the signed-in user may carry out one of `use_cases` (None: anyone signed in)."""
    if use_cases is None:
        return current_user.is_authenticated
    cases = use_cases if isinstance(use_cases, tuple) else (use_cases,)
    return any(may(case) for case in cases)


def home() -> str:
    """The signed-in user's landing page's endpoint: where their work is (access.Abilities.home)."""
    if "abilities" not in g:
        _read_standing()
    return f"{g.abilities.home}.index"


def inbox_count() -> str:
    """The header's count of tasks: exact below tasks.INBOX_COUNT_CAP, then "999+"."""
    if not current_user.is_authenticated:
        return "0"
    if "inbox_count" not in g:
        _read_standing()
    count = int(g.inbox_count)
    return str(count) if count < tasks.INBOX_COUNT_CAP else f"{tasks.INBOX_COUNT_CAP - 1}+"


def unread_notices() -> str:
    """The header's count of unread notices: exact below notices.UNREAD_CAP, then "99+"."""
    if not current_user.is_authenticated:
        return "0"
    if "unread_notices" not in g:
        _read_standing()
    count = int(g.unread_notices)
    return str(count) if count < notices.UNREAD_CAP else f"{notices.UNREAD_CAP - 1}+"


def idle_limit() -> timedelta:
    """How long a signed-in session may go unused before it ends (SESSION_IDLE_MINUTES)."""
    return timedelta(minutes=int(current_app.config["SESSION_IDLE_MINUTES"]))


def _load_user(user_id: str) -> WebUser | None:
    """The signed-in person, while the session the cookie's token names is live on the server
    (sessions.live: not ended, not idle too long, the account active); else nobody."""
    token = session.get(SESSION_TOKEN)  # set by auth.begin_session
    if not isinstance(token, str) or not user_id.isdigit():
        return None
    with get_db().reading() as db_session:
        found = sessions.live(db_session, token, idle_limit())
    if found is None or found.user_id != int(user_id):
        return None
    if found.stale:  # at most once a minute: a page that only reads rarely writes
        with get_db().transaction() as db_session:
            sessions.seen(db_session, token)
    return WebUser(found.user_id, found.username, found.display_name, found.language)


def _unauthorized() -> Any:
    if request.blueprint == "api":  # the token API answers 401, never a sign-in page
        abort(401)
    from flask import redirect, url_for

    return redirect(url_for("auth.login", next=request.full_path if request.query_string else request.path))


FORM_ACTION_ORIGINS = "planflow.form_action_origins"


def let_forms_reach(app: Flask, origins: Iterable[str]) -> None:
    """Let a form's answer redirect to these origins too: the logout form's answer goes on to an
    identity provider (OpenID Connect's end-session endpoint, SAML's single logout service), and a
    form's redirects are held to CSP's form-action. Only these origins are let in, nothing else."""
    app.extensions.setdefault(FORM_ACTION_ORIGINS, set()).update(origins)


def _headers(response: Response) -> Response:
    origins = current_app.extensions.get(FORM_ACTION_ORIGINS)
    for name, value in SECURITY_HEADERS.items():
        if name == "Content-Security-Policy" and origins:
            value = value.replace("form-action 'self'", " ".join(["form-action 'self'", *sorted(origins)]))
        response.headers.setdefault(name, value)
    return response


def error_page(status: int, message: str | None = None) -> tuple[str, int]:
    return render_template("errors/error.html", status=status, message=message), status


def http_error(exc: HTTPException) -> Any:
    status = exc.code or 500
    if status not in (400, 401, 403, 404, 405, 500):
        return exc
    return error_page(status)


def service_error(exc: ServiceError) -> tuple[str, int]:
    return error_page(status_of(exc), exc.render(language()))


@dataclass(frozen=True)
class FormError:
    """A refusal to show beside a form shown again: the status the API answers the same error
    with (http_status), and its messages by field, the error's own under ""."""

    status: int
    messages: dict[str, Message]

    def rendered(self) -> dict[str, str]:
        """The messages in the reader's language, for the pages whose templates take words."""
        return {name: message.render(language()) for name, message in self.messages.items()}


def form_error(exc: ServiceError) -> FormError:
    """How a page that shows its form again answers a service's refusal: with the error's own
    status, never a status of its own choosing, and with the error's message as well as its
    fields' (a Conflict says what changed meanwhile)."""
    return FormError(status_of(exc), {**exc.fields, "": exc.message})


def _csrf_error(exc: CSRFError) -> tuple[str, int]:
    return error_page(400, t("ui.error.csrf"))


def init_app(app: Flask) -> None:
    """Wire sign-in, CSRF, language, headers and error pages (the API, wired after, answers its
    own errors as problems and passes the others back here)."""
    control_characters.init_app(app)  # first: CSRF's hook, below, reads the form
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_SECURE"] = app.config.get("SECURE_COOKIES", True)
    app.config["WTF_CSRF_TIME_LIMIT"] = None  # the token lives as long as the session
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.session_protection = "strong"
    login_manager.user_loader(_load_user)
    login_manager.unauthorized_handler(_unauthorized)
    app.after_request(_headers)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(ServiceError, service_error)
    app.register_error_handler(CSRFError, _csrf_error)
    app.jinja_env.globals.update(
        t=t,
        sv=sv,
        sv_lang=sv_lang,
        area_sentence=area_sentence,
        action_words=action_words,
        subject_words=subject_words,
        actor_words=actor_words,
        language=language,
        languages=i18n.LANGUAGES,
        long_date=long_date,
        date_time=date_time,
        may=may,
        UseCase=UseCase,
        inbox_count=inbox_count,
        unread_notices=unread_notices,
        menu=menu,
        today=today,
    )
