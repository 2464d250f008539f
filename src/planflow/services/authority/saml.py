"""SAML 2 sign-in as a service provider (SP-initiated; the response comes by HTTP-POST).

pysaml2 checks what the standard asks of a response: the assertion's signature against the IdP's
certificate in its metadata (signed assertions required), the audience (our entity id), the
recipient and destination (our ACS URL), the validity window (NotBefore/NotOnOrAfter, SKEW
allowed) and that it answers a request this browser made (InResponseTo). What pysaml2 keeps only in
one process, the IDs already used, is kept here in the database (SamlSeenId), so that a response
posted again is refused by every web worker, even with a session cookie copied from before.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, saml
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import entity_descriptor
from saml2.response import AuthnResponse
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ...i18n import Message
from ...models import SamlSeenId
from ..records import audit
from ..records.audit import SYSTEM_ACTOR
from . import identities
from .logins import LoginOutcome

SKEW = timedelta(seconds=60)  # clocks of the IdP and planflow may differ this much
KEEP_AT_LEAST = timedelta(hours=1)  # an ID is kept this long even if its assertion says less
MAX_RESPONSE = 256 * 1024  # characters of a posted SAMLResponse (base64)


@dataclass(frozen=True)
class Addresses:
    """planflow's addresses for one provider, from BASE_URL: what the IdP is told in metadata."""

    metadata: str
    acs: str
    slo: str

    @classmethod
    def of(cls, base_url: str, name: str) -> Addresses:
        base = base_url.rstrip("/")
        return cls(f"{base}/saml/{name}/metadata", f"{base}/saml/{name}/acs", f"{base}/saml/{name}/slo")


@dataclass(frozen=True)
class SignedIn:
    """A sign-in's outcome, what single logout will need (the NameID as XML and the IdP's session
    index), and the page the request it answers asked to go to next (unchecked)."""

    outcome: LoginOutcome
    name_id: str | None = None
    session_index: str | None = None
    next_page: str | None = None


def _key_pair(settings: Mapping[str, Any], instance_path: Path) -> tuple[str, str]:
    """planflow's key and certificate for this provider: the configured PEM files, or the instance
    folder's saml/<name>-key.pem and -cert.pem, made once (mode 0600 for the key)."""
    if settings["sp_key"] and settings["sp_cert"]:
        return settings["sp_key"], settings["sp_cert"]
    folder = instance_path / "saml"
    key_path, cert_path = folder / f"{settings['name']}-key.pem", folder / f"{settings['name']}-cert.pem"
    if not (key_path.exists() and cert_path.exists()):
        folder.mkdir(parents=True, exist_ok=True)
        key_pem, cert_pem = self_signed(f"planflow {settings['name']}")
        key_path.unlink(missing_ok=True)
        with key_path.open("xb") as handle:
            key_path.chmod(0o600)
            handle.write(key_pem)
        cert_path.write_bytes(cert_pem)
    return str(key_path), str(cert_path)


def self_signed(common_name: str, years: int = 10) -> tuple[bytes, bytes]:
    """An RSA key and a self-signed certificate for it, as PEM: SAML trusts the certificate as
    published in metadata, not through a CA."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365 * years))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key_pem, certificate.public_bytes(serialization.Encoding.PEM)


class ServiceProvider:
    """planflow as the SP of one configured IdP (a PLANFLOW_SAML_PROVIDERS entry)."""

    def __init__(self, settings: Mapping[str, Any], base_url: str, instance_path: Path) -> None:
        self.settings = settings
        self.name: str = settings["name"]
        self.label: str = settings["label"]
        self.addresses = Addresses.of(base_url, self.name)
        self.entity_id: str = settings["sp_entity_id"] or self.addresses.metadata
        key_file, cert_file = _key_pair(settings, instance_path)
        source = settings["idp_metadata"]
        metadata = {"remote": [{"url": source}]} if source.startswith("https://") else {"local": [source]}
        xmlsec = shutil.which("xmlsec1")
        if xmlsec is None:
            raise ValueError("SAML sign-in needs the xmlsec1 program (Debian: apt-get install xmlsec1)")
        self.config = SPConfig()
        self.config.load(
            {
                "entityid": self.entity_id,
                "xmlsec_binary": xmlsec,
                "key_file": key_file,
                "cert_file": cert_file,
                "encryption_keypairs": [{"key_file": key_file, "cert_file": cert_file}],
                "metadata": metadata,
                "accepted_time_diff": int(SKEW.total_seconds()),
                "signing_algorithm": SIG_RSA_SHA256,  # not pysaml2's default, SHA-1
                "digest_algorithm": DIGEST_SHA256,
                "allow_unknown_attributes": True,
                "service": {
                    "sp": {
                        "name": self.label,
                        "endpoints": {
                            "assertion_consumer_service": [(self.addresses.acs, BINDING_HTTP_POST)],
                            "single_logout_service": [(self.addresses.slo, BINDING_HTTP_REDIRECT)],
                        },
                        "want_assertions_signed": True,
                        "want_response_signed": False,  # many IdPs sign only the assertion
                        "authn_requests_signed": True,
                        "logout_requests_signed": True,
                        "allow_unsolicited": False,  # IdP-initiated sign-in is not accepted
                        "name_id_format": [saml.NAMEID_FORMAT_PERSISTENT],
                    }
                },
            }
        )
        self.client = Saml2Client(self.config)
        idps = list(self.client.metadata.identity_providers())
        if len(idps) != 1:
            raise ValueError(
                f"SAML provider {self.name}: its metadata must describe one IdP, not {len(idps)}"
            )
        self.idp_entity_id: str = idps[0]
        self.provider = identities.Provider(
            name=self.name,
            issuer=self.idp_entity_id,
            label=self.label,
            link_by_email=settings["link_by_email"],
            create_unknown=settings["create_unknown"],
            group_roles=settings["group_roles"],
        )

    def metadata_xml(self) -> str:
        """planflow's SP metadata, signed with its key: what the federation registers."""
        return str(entity_descriptor(self.config))

    def login_redirect(self, relay_state: str = "") -> tuple[str, str]:
        """A signed AuthnRequest to the IdP (redirect binding): its ID, to remember as outstanding,
        and the address to send the browser to."""
        request_id, info = self.client.prepare_for_authenticate(
            entityid=self.idp_entity_id, relay_state=relay_state, binding=BINDING_HTTP_REDIRECT
        )
        return request_id, dict(info["headers"])["Location"]

    def single_logout_url(self) -> str | None:
        """The IdP's SingleLogoutService (redirect binding), if its metadata has one."""
        services = self.client.metadata.single_logout_service(
            self.idp_entity_id, BINDING_HTTP_REDIRECT, "idpsso"
        )
        return services[0]["location"] if services else None

    def sign_in(
        self,
        session: Session,
        saml_response: str,
        outstanding: Mapping[str, str],  # the AuthnRequest IDs this browser sent -> next page
        address: str,
    ) -> SignedIn:
        """Check a posted SAMLResponse and sign its person in (identities.identify), or refuse it;
        either way audited, never with the response itself. The caller commits."""
        if not saml_response or len(saml_response) > MAX_RESPONSE:
            return self._refuse(session, "missing or too long", address)
        try:
            response = self.client.parse_authn_request_response(
                saml_response, BINDING_HTTP_POST, outstanding=dict(outstanding)
            )
        except Exception as exc:  # noqa: BLE001 - any failure to verify untrusted XML is a refusal
            return self._refuse(session, type(exc).__name__, address)
        if not isinstance(response, AuthnResponse) or response.assertion is None:
            return self._refuse(session, "no assertion", address)
        if not self._first_use(session, response):
            return self._refuse(session, "replayed", address, Message("login.sso.replayed"))
        name_id = response.name_id
        subject = (name_id.text or "").strip() if name_id is not None else ""
        if not subject:
            return self._refuse(session, "no NameID", address)
        attributes = response.get_identity()
        outcome = identities.identify(
            session,
            self.provider,
            subject,
            _first(attributes, self.settings["email_attribute"]),
            _first(attributes, self.settings["name_attribute"]),
            [str(g) for g in attributes.get(self.settings["groups_attribute"], [])][:200],
            address,
        )
        who = outcome.user.username if outcome.user else subject[:200]
        audit.record(
            session,
            SYSTEM_ACTOR,
            "login.saml.signed_in" if outcome.user else "login.saml.refused",
            "user",
            who,
            {"provider": self.name, "address": address[:64]},
        )
        index = response.session_info().get("session_index")
        came_from = response.came_from if isinstance(response.came_from, str) else None
        return SignedIn(outcome, str(name_id), index if isinstance(index, str) else None, came_from)

    def logout_redirect(self, name_id_xml: str, session_index: str | None) -> str | None:
        """A signed LogoutRequest for the IdP's single logout (redirect binding), or None when the
        IdP has none."""
        destination = self.single_logout_url()
        if destination is None:
            return None
        name_id = saml.name_id_from_string(name_id_xml)
        _, request = self.client.create_logout_request(
            destination,
            self.idp_entity_id,
            name_id=name_id,
            session_indexes=[session_index] if session_index else None,
            sign=False,  # the redirect binding signs the query string itself
        )
        info = self.client.apply_binding(BINDING_HTTP_REDIRECT, str(request), destination, sign=True)
        return str(dict(info["headers"])["Location"])

    def _first_use(self, session: Session, response: AuthnResponse) -> bool:
        """Record the response's and its assertion's IDs; False if either was seen before."""
        now = datetime.now(UTC)  # pysaml2 judges the assertion's times by the real clock too
        session.execute(delete(SamlSeenId).where(SamlSeenId.keep_until < now))
        keys = [f"{self.name} {response.response.id}", f"{self.name} {response.assertion.id}"]
        seen = session.scalar(select(SamlSeenId.key).where(SamlSeenId.key.in_(keys)).limit(1))
        if seen is not None:
            return False
        until = max(now + KEEP_AT_LEAST, _not_on_or_after(response) + SKEW)
        session.add_all(SamlSeenId(key=key, seen_at=now, keep_until=until) for key in keys)
        session.flush()  # two workers at once: the second fails here on the primary key
        return True

    def _refuse(
        self, session: Session, reason: str, address: str, message: Message | None = None
    ) -> SignedIn:
        audit.record(
            session,
            SYSTEM_ACTOR,
            "login.saml.refused",
            "provider",
            self.name,
            {"reason": reason, "address": address[:64]},
        )
        return SignedIn(LoginOutcome(None, message or Message("login.sso.refused")))


def _first(attributes: Mapping[str, Any], name: str) -> str | None:
    values = attributes.get(name) or []
    return str(values[0])[:200] if values else None


def _not_on_or_after(response: AuthnResponse) -> datetime:
    conditions = response.assertion.conditions
    text = conditions.not_on_or_after if conditions is not None else None
    if not text:
        return datetime.now(UTC)
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
