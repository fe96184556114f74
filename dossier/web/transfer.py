"""The transfer package (MDTO) of one dossier as a zip download, for archivists and
administrators; the command line makes packages of several dossiers."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from flask import Blueprint, Flask, current_app, flash, redirect, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from dossier import access, transfer
from dossier.extensions import db
from dossier.models import Dossier

bp = Blueprint("transfer", __name__)


def _too_large(dossier: Dossier) -> bool:
    """Whether the package is too large to make within a request (then say how instead)."""
    versions, size = transfer.extent(dossier)
    config = current_app.config
    if versions <= config["TRANSFER_WEB_MAX_VERSIONS"] and size <= config["TRANSFER_WEB_MAX_BYTES"]:
        return False
    flash(
        _(
            "This dossier is too large to package here (%(num)d versions); an administrator "
            "makes its package with `dossier transfer export %(reference)s`.",
            num=versions,
            reference=dossier.reference,
        ),
        "error",
    )
    return True


@bp.post("/dossiers/<reference>/transfer.zip", endpoint="package")
@login_required
def package(reference: str) -> Response:
    dossier = access.get_dossier_or_404(current_user, reference)
    access.require(access.can_export_transfer(current_user))
    back = redirect(url_for("dossiers.show", reference=reference, _anchor="retention"), 303)
    if _too_large(dossier):
        return back
    work = Path(tempfile.mkdtemp(prefix="transfer-", dir=current_app.config["STAGING_DIR"]))
    try:
        out = work / f"overbrenging-{transfer.safe_name(dossier.reference)}.zip"
        transfer.export(current_user, [dossier], out)
        db.session.commit()
        stream = out.open("rb")  # stays readable after the folder is removed below
    except transfer.TransferError as exc:
        db.session.rollback()
        flash(_("No transfer package was made: %(reason)s", reason=str(exc)), "error")
        return back
    finally:
        shutil.rmtree(work, ignore_errors=True)
    response = send_file(
        stream, mimetype="application/zip", as_attachment=True, download_name=out.name, max_age=0
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)

    @app.context_processor
    def _may_transfer() -> dict[str, object]:
        def may_export_transfer() -> bool:
            user = current_user
            return bool(user and user.is_authenticated and access.can_export_transfer(user))

        def transfer_configured() -> bool:
            return bool(transfer.organisation_name())

        return {
            "may_export_transfer": may_export_transfer,
            "transfer_configured": transfer_configured,
        }
