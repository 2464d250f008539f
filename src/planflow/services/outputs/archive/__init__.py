"""The archive: everything planflow knows about its plans as an E-ARK CSIP package (FGS
Paketstruktur 2.0) of JSON, CSV and the issued reports, with a Swedish README and METS.xml, its
manifest signed with the audit key. `verify_archive` checks a package from its files and a public
key alone: the signature, the audit chain and its checkpoints, and every table against the
signed events its rows come from."""

from .export import export_archive, write_archive
from .verify import Archive, ArchiveVerification, read_archive, verify_archive

__all__ = [
    "Archive",
    "ArchiveVerification",
    "export_archive",
    "read_archive",
    "verify_archive",
    "write_archive",
]
