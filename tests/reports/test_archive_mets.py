"""The package's METS.xml, checked by someone else's rules: it validates against the METS schema
(mets.xsd with xlink.xsd and the E-ARK CSIP extension, as published in PyPI's eark-validator and
vendored with their licences), and its fileSec lists every file of the package with its real
SHA-256, as E-ARK CSIP asks."""

from __future__ import annotations

import hashlib
from pathlib import Path

from lxml import etree

from planflow.db import Database
from planflow.services.outputs.archive import layout

from ..conftest import Cli
from .test_archive import _export, _history

NS = {"mets": "http://www.loc.gov/METS/", "xlink": "http://www.w3.org/1999/xlink"}
XLINK_URL = "http://www.loc.gov/standards/xlink/xlink.xsd"  # what mets.xsd imports


class _Local(etree.Resolver):
    """mets.xsd imports xlink.xsd from the Library of Congress: read the vendored copy instead."""

    def resolve(self, url: str | None, pubid: str | None, context: object) -> object:
        if url == XLINK_URL:
            return self.resolve_filename(str(layout.SCHEMA_SOURCE / "xlink.xsd"), context)
        return None


def _schema() -> etree.XMLSchema:
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(_Local())
    imports = "".join(
        f'<xs:import namespace="{namespace}" schemaLocation="{(layout.SCHEMA_SOURCE / name).as_uri()}"/>'
        for namespace, name in (
            ("http://www.loc.gov/METS/", "mets.xsd"),
            ("https://DILCIS.eu/XML/METS/CSIPExtensionMETS", "DILCISExtensionMETS.xsd"),
        )
    )
    wrapper = f'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">{imports}</xs:schema>'
    return etree.XMLSchema(etree.fromstring(wrapper.encode(), parser))


def test_mets_validates_and_lists_every_file_with_its_sha256(
    cli: Cli, seeded: Database, tmp_path: Path
) -> None:
    _history(seeded)
    package = _export(cli, tmp_path, "package")
    document = etree.parse(str(package / layout.METS), etree.XMLParser(no_network=True))
    schema = _schema()
    assert schema.validate(document), schema.error_log
    root = document.getroot()
    assert root.get("OBJID") and root.get("PROFILE") == "https://earkcsip.dilcis.eu/profile/E-ARK-CSIP.xml"
    assert root.find("mets:structMap[@LABEL='CSIP']", NS) is not None
    assert root.find("mets:metsHdr/mets:agent[@ROLE='CREATOR']/mets:name", NS).text == "planflow"

    listed = {}
    for element in root.findall(".//mets:file", NS) + root.findall(".//mets:mdRef", NS):
        href = element.get(f"{{{NS['xlink']}}}href") or element.find("mets:FLocat", NS).get(
            f"{{{NS['xlink']}}}href"
        )
        assert element.get("CHECKSUMTYPE") == "SHA-256"
        listed[href] = element.get("CHECKSUM")
    on_disk = {
        p.relative_to(package).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in package.rglob("*")
        if p.is_file()
    }
    assert listed == {
        path: digest for path, digest in on_disk.items() if path not in {layout.METS, *layout.UNLISTED}
    }
    for folder in (
        "metadata/descriptive/",
        "metadata/preservation/",
        "representations/rep1/data/",
        "schemas/",
        "documentation/",
    ):
        assert any(path.startswith(folder) for path in on_disk), folder

    # a changed METS.xml is refused like any other file
    (package / layout.METS).write_bytes(
        (package / layout.METS).read_bytes().replace(b"planflow", b"planfl0w", 1)
    )
    assert cli("archive", "verify", str(package)).exit_code == 1
