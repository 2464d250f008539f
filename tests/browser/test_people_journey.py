"""In a real browser, people on the web (issue 20): the administrator adds a person, the invitation
mail is read from a real SMTP server, its link sets the password and the person signs in; a reset
the same way; deactivating shows what the person still holds. Every page is axe-checked and
checked at 390 px (tests/browser Visitor)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest

from planflow.scheduling import Context, load_schedule, run_job
from planflow.services.outputs import mailer
from tests.browser.conftest import LiveApp
from tests.browser.test_journey import Visitor
from tests.mailserver import MailServer

pytestmark = pytest.mark.browser


@pytest.fixture
def server() -> Iterator[MailServer]:
    server = MailServer().start()
    yield server
    server.stop()


def _mailed_link(live: LiveApp, server: MailServer, address: str) -> tuple[EmailMessage, str]:
    """Send what waits (as the scheduler's deliver_mail does) and read the newest mail to
    `address` as the SMTP server got it: its link to /password/."""
    smtp = mailer.SmtpSettings(host="127.0.0.1", port=server.port, base_url=live.url, unsubscribe_key="t")
    assert run_job(Context(live.db, load_schedule(), "Europe/Stockholm", smtp), "deliver_mail").error is None
    mails = [m for m in server.inbox.messages if address in str(m["To"])]
    assert mails, [str(m["To"]) for m in server.inbox.messages]
    mail = mails[-1]
    plain = mail.get_body(("plain",))
    assert plain is not None
    found = re.search(re.escape(live.url) + r"(/password/\S+)", plain.get_content())
    assert found, plain.get_content()
    return mail, found.group(1)


def _choose_password(visitor: Visitor, path: str, password: str, name: str) -> None:
    visitor.go(path)
    visitor.check(f"{name}-form")
    visitor.page.fill("#password", password)
    visitor.page.fill("#again", password + "x")
    visitor.page.get_by_role("button", name="Spara lösenordet").click()
    assert visitor.page.locator("#again-e").is_visible()  # the error beside the second field
    visitor.check(f"{name}-errors")
    visitor.page.fill("#password", password)
    visitor.page.fill("#again", password)
    visitor.page.get_by_role("button", name="Spara lösenordet").click()
    visitor.page.wait_for_url(re.compile(r"/login$"))


def _sign_in(visitor: Visitor, username: str, password: str) -> None:
    visitor.go("/login")
    visitor.page.fill("#username", username)
    visitor.page.fill("#password", password)
    visitor.page.click("button[type=submit].primary")
    visitor.page.wait_for_url(re.compile(r"/inbox$"))


def test_invite_set_password_sign_in_reset_and_deactivate(
    browser: Any, live: LiveApp, server: MailServer
) -> None:
    checked: dict[str, list[str]] = {}
    admin = Visitor(browser, live, checked)
    admin.login("admin")
    admin.go("/admin")
    admin.check("admin-people")
    admin.page.fill("#invite-display_name", "Åsa Öberg")
    admin.page.fill("#invite-username", "asa.oberg")
    admin.page.fill("#invite-email", "asa.oberg@example.org")
    admin.page.select_option("#invite-language", "sv")
    admin.page.get_by_role("button", name="Lägg till person och skicka inbjudan").click()
    admin.page.wait_for_url(re.compile(r"/admin$"))
    assert "Åsa Öberg är tillagd och en inbjudan skickas till asa.oberg@example.org." in admin.page.content()

    mail, path = _mailed_link(live, server, "asa.oberg@example.org")
    assert str(mail["Subject"]) == "Välkommen till planflow" and mail["Content-Language"] == "sv"
    person = Visitor(browser, live, checked)
    _choose_password(person, path, "ett långt lösenord i december", "password-invite")
    _sign_in(person, "asa.oberg", "ett långt lösenord i december")
    person.go(path)  # spent: the link no longer opens the form
    assert person.page.locator("#password").count() == 0
    person.close()

    # A reset: the admin's button beside the person, a new mail, a new password.
    admin.go("/admin")
    admin.page.get_by_role("button", name="Skicka länk för nytt lösenord Åsa Öberg (asa.oberg)").click()
    admin.page.wait_for_url(re.compile(r"/admin$"))
    mail, reset_path = _mailed_link(live, server, "asa.oberg@example.org")
    assert str(mail["Subject"]) == "Nytt lösenord till planflow" and reset_path != path
    again = Visitor(browser, live, checked)
    _choose_password(again, reset_path, "ett annat långt lösenord", "password-reset")
    _sign_in(again, "asa.oberg", "ett annat långt lösenord")
    again.close()

    # Deactivating names the person and what they still hold.
    admin.go("/admin/users/anna.nilsson/deactivate")
    admin.check("deactivate-holdings")
    held = admin.page.locator("ul[aria-labelledby=held-h]").inner_text()
    assert re.search(r"[1-9]\d* ", held), held  # she owns activities
    assert "1.1.1 " in held  # and they are named, not only counted
    admin.page.get_by_role("button", name=re.compile("Stäng av kontot för Anna Nilsson")).click()
    admin.page.wait_for_url(re.compile(r"/admin$"))
    flash = admin.page.locator(".flash").inner_text()
    assert "(anna.nilsson) är inaktiverat" in flash, flash
    admin.close()
    assert set(checked) >= {
        "admin-people",
        "password-invite-form",
        "password-reset-errors",
        "deactivate-holdings",
    }
