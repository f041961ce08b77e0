"""The clock side: every tick, each registered kind (scheduler/kinds.py) plans what is due; the ledger sends it once."""
