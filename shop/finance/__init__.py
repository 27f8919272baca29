"""The finance desk: PNBP deposits (SIMPONI billing code, NTPN), reconciliation of PNBP owed against deposited
per facility and month, period close, reports and exports. It reads the ledger and never writes to it; its screens
are routes of the `ledger` blueprint (endpoints `ledger.…`, templates under `templates/ledger/`)."""
