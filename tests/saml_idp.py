"""A real SAML 2 identity provider for the tests: pysaml2's IdP (saml2.server.Server) behind a
small WSGI app on a free loopback port, with its own key and certificate, a login form, people
with group attributes, and single logout. Only its lifetime can be turned negative, to issue an
assertion that has already expired."""

from __future__ import annotations

import html
import secrets
import shutil
import threading
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, saml
from saml2.config import IdPConfig
from saml2.metadata import entity_descriptor
from saml2.server import Server
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from planflow.services.authority.saml import self_signed


class LocalIdP:
    """`people` maps a username (the NameID it asserts) to its attributes; `lifetime` is how long
    an assertion is valid; `logged_out` lists the NameIDs single logout ended."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        key_pem, cert_pem = self_signed("test idp")
        self.key_file, self.cert_file = folder / "idp-key.pem", folder / "idp-cert.pem"
        self.key_file.write_bytes(key_pem)
        self.cert_file.write_bytes(cert_pem)
        self.metadata_file = folder / "idp-metadata.xml"
        self.people: dict[str, dict[str, list[str]]] = {}
        self.lifetime: dict[str, int] = {"minutes": 5}
        self.logged_out: list[str] = []
        self.sp_metadata: str | None = None
        self._pending: dict[str, tuple[Any, str]] = {}
        self._http = make_server("127.0.0.1", 0, self._wsgi, threaded=True)
        self.url = f"http://127.0.0.1:{self._http.server_port}"
        self.metadata_file.write_text(str(entity_descriptor(self._config())))
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)
        self._thread.start()

    def trust(self, sp_metadata_url: str) -> None:
        """Read the SP's metadata from its published address, as a federation would."""
        with urllib.request.urlopen(sp_metadata_url, timeout=10) as answer:
            self.trust_xml(answer.read().decode("utf-8"))

    def trust_xml(self, sp_metadata: str) -> None:
        self.sp_metadata = sp_metadata

    def close(self) -> None:
        self._http.shutdown()
        self._thread.join(5)

    def _config(self) -> IdPConfig:
        config = IdPConfig()
        config.load(
            {
                "entityid": f"{self.url}/idp",
                "xmlsec_binary": shutil.which("xmlsec1"),
                "key_file": str(self.key_file),
                "cert_file": str(self.cert_file),
                "signing_algorithm": SIG_RSA_SHA256,
                "digest_algorithm": DIGEST_SHA256,
                "metadata": {"inline": [self.sp_metadata]} if self.sp_metadata else {},
                "service": {
                    "idp": {
                        "endpoints": {
                            "single_sign_on_service": [(f"{self.url}/sso", BINDING_HTTP_REDIRECT)],
                            "single_logout_service": [(f"{self.url}/slo", BINDING_HTTP_REDIRECT)],
                        },
                        "policy": {
                            "default": {"lifetime": dict(self.lifetime), "attribute_restrictions": None}
                        },
                        "name_id_format": [saml.NAMEID_FORMAT_PERSISTENT],
                    }
                },
            }
        )
        return config

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if request.path == "/sso":
            response = self._login_form(request)
        elif request.path == "/login" and request.method == "POST":
            response = self._answer(request)
        elif request.path == "/slo":
            response = self._logout(request)
        else:
            response = Response("not found", 404)
        return response(environ, start_response)

    def _login_form(self, request: Request) -> Response:
        server = Server(config=self._config())
        parsed = server.parse_authn_request(request.args["SAMLRequest"], BINDING_HTTP_REDIRECT)
        key = secrets.token_urlsafe(8)
        self._pending[key] = (parsed.message, request.args.get("RelayState", ""))
        page = (
            '<!doctype html><html lang="en"><head><title>Test IdP</title></head><body><main>'
            '<h1>Test IdP</h1><form method="post" action="/login">'
            f'<input type="hidden" name="key" value="{key}">'
            '<label for="who">Username</label> <input id="who" name="username">'
            '<button type="submit">Sign in at the IdP</button></form></main></body></html>'
        )
        return Response(page, mimetype="text/html")

    def _answer(self, request: Request) -> Response:
        authn_request, relay_state = self._pending.pop(request.form["key"])
        username = request.form["username"]
        if username not in self.people:
            return Response("unknown at the IdP", 403)
        server = Server(config=self._config())
        destination = authn_request.assertion_consumer_service_url
        response = server.create_authn_response(
            identity=self.people[username],
            in_response_to=authn_request.id,
            destination=destination,
            sp_entity_id=authn_request.issuer.text,
            name_id=saml.NameID(format=saml.NAMEID_FORMAT_PERSISTENT, text=username),
            sign_assertion=True,
            sign_response=False,
            authn={"class_ref": saml.AUTHN_PASSWORD, "authn_auth": f"{self.url}/idp"},
        )
        info = server.apply_binding(BINDING_HTTP_POST, str(response), destination, relay_state, response=True)
        return Response(info["data"], mimetype="text/html")

    def _logout(self, request: Request) -> Response:
        server = Server(config=self._config())
        query = parse_qs(request.query_string.decode())
        parsed = server.parse_logout_request(query["SAMLRequest"][0], BINDING_HTTP_REDIRECT)
        self.logged_out.append(parsed.message.name_id.text)
        answer = server.create_logout_response(parsed.message, [BINDING_HTTP_REDIRECT])
        destination = server.metadata.single_logout_service(
            parsed.message.issuer.text, BINDING_HTTP_REDIRECT, "spsso"
        )
        info = server.apply_binding(
            BINDING_HTTP_REDIRECT, str(answer), destination[0]["location"], html.escape(""), response=True
        )
        return Response(status=303, headers=dict(info["headers"]))
