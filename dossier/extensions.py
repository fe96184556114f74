"""Flask extensions, created unbound here and bound in `create_app`."""

from __future__ import annotations

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from dossier.models.base import Base

db = SQLAlchemy(model_class=Base)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
migrate = Migrate()
# Throttles log-in attempts; storage is per process unless RATELIMIT_STORAGE_URI names a
# shared store (for example redis://127.0.0.1:6379) for several web processes.
limiter = Limiter(key_func=get_remote_address, default_limits=[])
