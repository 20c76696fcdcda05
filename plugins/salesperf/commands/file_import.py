"""`salesperf import --mapping FILE|NAME --dir DIR`: import CRM export files outside Airflow."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser(
        "import",
        help="import CSV/XLSX export files from a folder with a YAML mapping",
        description=(
            "Import every file in DIR that the mapping's patterns match into the landing "
            "tables. Bad rows go to ops.quarantine; processed files move to the archive "
            "folder. Shipped mappings: maven_crm, salesforce_sample (see docs/file_mappings.md)."
        ),
    )
    p.add_argument("--mapping", required=True, help="a mapping YAML file or a shipped name")
    p.add_argument("--dir", required=True, dest="directory", help="the folder with the files")
    p.add_argument("--archive-dir", help="where processed files go (default DIR/archive)")
    p.add_argument("--no-archive", action="store_true", help="leave processed files in place")
    p.set_defaults(func=_import)


def _import(args) -> int:
    from salesperf.sources.files import FileImportError, import_dir

    try:
        report = import_dir(
            args.mapping,
            args.directory,
            archive=not args.no_archive,
            archive_dir=args.archive_dir,
        )
    except FileImportError as exc:
        report = getattr(exc, "report", None)
        if report is not None:
            print(report.summary())
        raise
    print(report.summary())
    return 0
