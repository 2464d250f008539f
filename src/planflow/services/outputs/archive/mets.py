"""METS.xml: the package described as E-ARK CSIP 2.1 (FGS Paketstruktur 2.0) asks: who made it,
its descriptive and preservation metadata, every file with its SHA-256, and the structural map
of metadata, schemas, documentation and the one representation. The manifest and its signature
are not listed: the manifest covers METS.xml, so METS cannot cover the manifest."""

from __future__ import annotations

import hashlib
import mimetypes
import xml.etree.ElementTree as ET
from datetime import datetime
from importlib import metadata

from . import layout

METS_NS = "http://www.loc.gov/METS/"
XLINK_NS = "http://www.w3.org/1999/xlink"
CSIP_NS = "https://DILCIS.eu/XML/METS/CSIPExtensionMETS"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
PROFILE = "https://earkcsip.dilcis.eu/profile/E-ARK-CSIP.xml"
for prefix, uri in (("mets", METS_NS), ("xlink", XLINK_NS), ("csip", CSIP_NS), ("xsi", XSI_NS)):
    ET.register_namespace(prefix, uri)

_MIME = {
    ".json": "application/json",
    ".csv": "text/csv",
    ".md": "text/markdown",
    ".pem": "application/x-pem-file",
}


def _q(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


def _m(name: str) -> str:
    return _q(METS_NS, name)


def _mime(path: str) -> str:
    suffix = path[path.rfind(".") :] if "." in path else ""
    return _MIME.get(suffix) or mimetypes.guess_type(path)[0] or "application/octet-stream"


def _located(element: ET.Element, path: str, data: bytes, created: str) -> None:
    """The attributes CSIP asks of a file or a metadata reference: type, size, time, checksum."""
    element.set("MIMETYPE", _mime(path))
    element.set("SIZE", str(len(data)))
    element.set("CREATED", created)
    element.set("CHECKSUM", hashlib.sha256(data).hexdigest())
    element.set("CHECKSUMTYPE", "SHA-256")


def _link(element: ET.Element, path: str) -> None:
    element.set("LOCTYPE", "URL")
    element.set(_q(XLINK_NS, "type"), "simple")
    element.set(_q(XLINK_NS, "href"), path)


def document(package: str, made_at: datetime, files: dict[str, bytes]) -> bytes:
    """METS.xml for a package whose files (by path, METS and the manifest not yet among them) are
    `files`."""
    created = made_at.isoformat()
    root = ET.Element(
        _m("mets"),
        {
            "OBJID": package,
            "LABEL": "planflow: plan, beslut, rapporter, utskick och granskningslogg",
            "TYPE": "Mixed",
            "PROFILE": PROFILE,
            _q(CSIP_NS, "CONTENTINFORMATIONTYPE"): "OTHER",
            _q(CSIP_NS, "OTHERCONTENTINFORMATIONTYPE"): layout.FORMAT,
            _q(XSI_NS, "schemaLocation"): " ".join(
                (
                    f"{METS_NS} schemas/mets.xsd",
                    f"{XLINK_NS} schemas/xlink.xsd",
                    f"{CSIP_NS} schemas/DILCISExtensionMETS.xsd",
                )
            ),
        },
    )
    header = ET.SubElement(
        root,
        _m("metsHdr"),
        {"CREATEDATE": created, "RECORDSTATUS": "NEW", _q(CSIP_NS, "OAISPACKAGETYPE"): "SIP"},
    )
    agent = ET.SubElement(header, _m("agent"), {"ROLE": "CREATOR", "TYPE": "OTHER", "OTHERTYPE": "SOFTWARE"})
    ET.SubElement(agent, _m("name")).text = "planflow"
    ET.SubElement(agent, _m("note"), {_q(CSIP_NS, "NOTETYPE"): "SOFTWARE VERSION"}).text = metadata.version(
        "planflow"
    )

    dmd = ET.SubElement(
        root, _m("dmdSec"), {"ID": "dmd-description", "CREATED": created, "STATUS": "CURRENT"}
    )
    _metadata(dmd, layout.DESCRIPTION, files, created, "planflow package description")
    amd = ET.SubElement(root, _m("amdSec"))
    preservation = sorted(p for p in files if p.startswith("metadata/preservation/"))
    digiprov_ids = []
    for number, path in enumerate(preservation, start=1):
        digiprov_ids.append(f"digiprov-{number}")
        section = ET.SubElement(amd, _m("digiprovMD"), {"ID": digiprov_ids[-1], "STATUS": "CURRENT"})
        _metadata(section, path, files, created, "planflow public key")

    file_sec = ET.SubElement(root, _m("fileSec"), {"ID": "files"})
    groups = {
        "Documentation": "documentation/",
        "Schemas": layout.SCHEMAS,
        "Representations/rep1": "representations/rep1/",
    }
    group_ids: dict[str, list[str]] = {}
    for number, (use, prefix) in enumerate(groups.items(), start=1):
        group = ET.SubElement(file_sec, _m("fileGrp"), {"ID": f"group-{number}", "USE": use})
        group_ids[use] = [group.get("ID", "")]
        for path in sorted(p for p in files if p.startswith(prefix)):
            file = ET.SubElement(
                group, _m("file"), {"ID": "file-" + hashlib.sha256(path.encode()).hexdigest()[:16]}
            )
            _located(file, path, files[path], created)
            _link(ET.SubElement(file, _m("FLocat")), path)

    struct = ET.SubElement(root, _m("structMap"), {"ID": "structure", "TYPE": "PHYSICAL", "LABEL": "CSIP"})
    top = ET.SubElement(struct, _m("div"), {"ID": "package", "LABEL": package})
    ET.SubElement(
        top,
        _m("div"),
        {"ID": "metadata", "LABEL": "Metadata", "DMDID": "dmd-description", "ADMID": " ".join(digiprov_ids)},
    )
    for use in groups:
        div = ET.SubElement(top, _m("div"), {"ID": "div-" + use.replace("/", "-"), "LABEL": use})
        ET.SubElement(div, _m("fptr"), {"FILEID": group_ids[use][0]})
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def _metadata(section: ET.Element, path: str, files: dict[str, bytes], created: str, kind: str) -> None:
    reference = ET.SubElement(section, _m("mdRef"), {"MDTYPE": "OTHER", "OTHERMDTYPE": kind})
    _link(reference, path)
    _located(reference, path, files[path], created)
