"""Scenarios shared by the simulator's tests (pure data: no Django here)."""

from __future__ import annotations

from typing import Any


def worked_example() -> dict[str, Any]:
    """The worked example of DESIGN.md as a scenario."""
    return {
        "currency": "USD",
        "start": "2026-01-01",
        "end": "2026-12-31",
        "tranches": {"period": "quarterly", "due_days": 30},
        "metrics": [{"code": "PLACED", "price": "500.00", "cap_units": 3}],
        "claims": [
            {
                "id": f"c{n}",
                "metric": "PLACED",
                "worker": f"w{n}",
                "achieved_on": "2026-01-02",
                "verified_on": verified_on,
                "status": "verified",
            }
            for n, verified_on in enumerate(["2026-01-05", "2026-01-20", "2026-02-02", "2026-02-03"], start=1)
        ],
    }
