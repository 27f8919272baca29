"""Back up or restore the shop: the database (pg_dump's custom format for PostgreSQL, SQLite's online backup
for the embedded database) and both upload folders (product photos; private receipts and scans).

    .venv/bin/python scripts/backup.py backup DIR      # DIR gets database.dump or database.sqlite + uploads.tar.gz
    .venv/bin/python scripts/backup.py restore DIR     # into an EMPTY database named by DATABASE_URL

The database and folders are the ones the shop's configuration names (DATABASE_URL, UPLOAD_FOLDER,
PRIVATE_UPLOAD_FOLDER, or their defaults under instance/)."""

from __future__ import annotations

import argparse
import sqlite3
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def settings() -> tuple[str, Path, Path]:
    from shop import create_app

    app = create_app()
    config = app.config
    return (config["SQLALCHEMY_DATABASE_URI"], Path(config["UPLOAD_FOLDER"]), Path(config["PRIVATE_UPLOAD_FOLDER"]))


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def backup(target: Path) -> None:
    url, uploads, private = settings()
    target.mkdir(parents=True, exist_ok=True)
    if url.startswith("postgresql"):
        subprocess.run(["pg_dump", "--format=custom", "--no-owner", f"--file={target / 'database.dump'}",
                        libpq(url)], check=True)
    else:
        with sqlite3.connect(sqlite_path(url)) as source, sqlite3.connect(target / "database.sqlite") as copy:
            source.backup(copy)  # consistent even while the shop writes
    with tarfile.open(target / "uploads.tar.gz", "w:gz") as archive:
        for name, folder in (("uploads", uploads), ("private", private)):
            if folder.exists():
                archive.add(folder, arcname=name)
    print(f"backed up to {target}")


def restore(source: Path) -> None:
    url, uploads, private = settings()
    if url.startswith("postgresql"):
        subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={libpq(url)}",
                        str(source / "database.dump")], check=True)
    else:
        destination = sqlite_path(url)
        if destination.exists() and destination.stat().st_size:
            sys.exit(f"{destination} is not empty: restore into a new database")
        destination.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(source / "database.sqlite") as backup_copy, sqlite3.connect(destination) as target:
            backup_copy.backup(target)
    with tarfile.open(source / "uploads.tar.gz") as archive:
        for member in archive.getmembers():
            top, _, rest = member.name.partition("/")
            folder = {"uploads": uploads, "private": private}.get(top)
            if folder is None or not rest or member.issym() or member.islnk() or ".." in Path(rest).parts:
                continue
            member.name = rest
            archive.extract(member, folder, filter="data")
    print(f"restored from {source}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["backup", "restore"])
    parser.add_argument("directory", type=Path)
    args = parser.parse_args()
    (backup if args.action == "backup" else restore)(args.directory)


if __name__ == "__main__":
    main()
