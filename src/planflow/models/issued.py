"""Issued reports: a report as it was sent to the steering group or the board, frozen. Its content
(a canonical JSON snapshot) and every rendered file are stored with their SHA-256, so later changes
to the plan never change it and it downloads again byte for byte."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base


class IssuedReport(Base):
    __tablename__ = "issued_report"
    __table_args__ = (UniqueConstraint("plan_id", "kind", "subject", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"))
    kind: Mapped[str] = mapped_column(String(16))  # steering | annual
    subject: Mapped[str] = mapped_column(String(32))  # the period (2026-Q4) or the year (2026)
    number: Mapped[int]  # 1 for the first issue of a subject, 2 for a corrected reissue…
    language: Mapped[str] = mapped_column(String(8))
    issued_at: Mapped[datetime]
    issued_by: Mapped[str] = mapped_column(String(64))
    on_behalf_of: Mapped[str | None] = mapped_column(String(64))
    # The signed audit checkpoint the documents carry: the trail up to it is anchored by them.
    checkpoint_seq: Mapped[int]
    checkpoint_hash: Mapped[str] = mapped_column(String(64))
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    sha256: Mapped[str] = mapped_column(String(64))  # of the canonical JSON of `content`

    files: Mapped[list[IssuedReportFile]] = relationship(
        back_populates="report", order_by="IssuedReportFile.format", cascade="all, delete-orphan"
    )


class IssuedReportFile(Base):
    __tablename__ = "issued_report_file"
    __table_args__ = (UniqueConstraint("report_id", "format"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("issued_report.id"), index=True)
    format: Mapped[str] = mapped_column(String(8))  # html | pdf | docx
    data: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))

    report: Mapped[IssuedReport] = relationship(back_populates="files")
