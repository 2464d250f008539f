"""The archive: everything planflow knows about its plans, as JSON and CSV with a README, in a folder
or a zip, that can be checked without the database or planflow's own tables: `verify_archive`
recomputes the audit chain with the same hash function (services.audit.event_hash), checks the
signed checkpoints with the public key in the archive (or one published elsewhere), and checks
every file against the manifest and every issued report against its recorded SHA-256."""

from .export import export_archive, write_archive
from .verify import ArchiveVerification, read_archive, verify_archive

__all__ = ["ArchiveVerification", "export_archive", "read_archive", "verify_archive", "write_archive"]
