"""The dashboard's pages that combine the apps, at the paths they have always had."""

from django.urls import path

from programme import portal, views, worker_actions

app_name = "programme"

urlpatterns = [
    path("pilots/", views.overview, name="overview"),
    path("pilots/<int:pk>/", views.pilot, name="pilot"),
    path("workers/<int:pk>/", views.worker, name="worker"),
    # Staff's actions on a worker's page (programme/worker_actions.py), each a form POST.
    path("workers/<int:pk>/move/", worker_actions.journey_move, name="worker-move"),
    path("workers/<int:pk>/employments/", worker_actions.employment_add, name="worker-employment"),
    path(
        "workers/<int:pk>/employments/<int:employment_id>/end/",
        worker_actions.employment_end,
        name="worker-employment-end",
    ),
    path("workers/<int:pk>/evidence/", worker_actions.evidence_upload, name="worker-evidence"),
    path(
        "workers/<int:pk>/evidence/<int:evidence_id>/confirm/",
        worker_actions.evidence_confirm,
        name="worker-evidence-confirm",
    ),
    path("workers/<int:pk>/fees/", worker_actions.fee_report, name="worker-fee"),
    path("workers/<int:pk>/reveal/", worker_actions.personal_data_reveal, name="worker-reveal"),
    path("workers/<int:pk>/erase/", worker_actions.erase, name="worker-erase"),
    path("workers/<int:pk>/consent/", worker_actions.consent_give, name="worker-consent"),
    path("workers/<int:pk>/consent/withdraw/", worker_actions.consent_take_back, name="worker-consent-withdraw"),
    path("workers/<int:pk>/export.json", worker_actions.export, {"export_format": "json"}, name="worker-export-json"),
    path("workers/<int:pk>/export.pdf", worker_actions.export, {"export_format": "pdf"}, name="worker-export-pdf"),
    path("workers/<int:pk>/access-log/", views.worker_access_log, name="worker-access-log"),
    path("recruiters/", views.scorecards, name="scorecards"),
    path("recruiters/<int:pk>/", views.scorecard, name="scorecard"),
    # The recruiter portal (programme/portal.py): a partner's own workers, claims, contracts and API tokens.
    path("portal/", portal.home, name="portal"),
    path("portal/workers/", portal.workers, name="portal-workers"),
    path("portal/workers/<int:pk>/", portal.worker, name="portal-worker"),
    path("portal/claims/", portal.claims, name="portal-claims"),
    path("portal/claims/<int:pk>/", portal.claim, name="portal-claim"),
    path("portal/contracts/", portal.contracts, name="portal-contracts"),
    path("portal/tokens/", portal.tokens, name="portal-tokens"),
    path("portal/tokens/<int:pk>/revoke/", portal.token_revoke, name="portal-token-revoke"),
]
