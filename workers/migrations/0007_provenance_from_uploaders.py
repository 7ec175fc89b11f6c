# Who supplied each existing piece of evidence, derived from who uploaded it: program staff, or the kind of
# the uploader's organisation; no uploader (a script, the demo of old) stays "unrecorded", which no rule
# counts. Each existing fee report gets the organisation of whoever reported it.

from django.db import migrations

ROLE_OF_UPLOADER = """
    CASE
        WHEN u.is_superuser OR u.role = 'staff' THEN 'staff'
        WHEN u.organisation_id IS NULL THEN 'unrecorded'
        WHEN o.kind IN ('employer', 'recruiter', 'training_provider', 'verifier') THEN o.kind
        ELSE 'partner'
    END
"""

FORWARD = [
    f"""
    UPDATE workers_evidence AS e
    SET source = {ROLE_OF_UPLOADER},
        source_organisation_id = CASE WHEN u.is_superuser OR u.role = 'staff' THEN NULL ELSE u.organisation_id END
    FROM pilots_user AS u LEFT JOIN pilots_organisation AS o ON o.id = u.organisation_id
    WHERE e.uploaded_by_id = u.id
    """,
    """
    UPDATE workers_feereport AS f
    SET source_organisation_id = u.organisation_id
    FROM pilots_user AS u
    WHERE f.reported_by_id = u.id AND NOT (u.is_superuser OR u.role = 'staff') AND u.organisation_id IS NOT NULL
    """,
]
BACKWARD = [
    "UPDATE workers_evidence SET source = 'unrecorded', source_organisation_id = NULL",
    "UPDATE workers_feereport SET source_organisation_id = NULL",
]


class Migration(migrations.Migration):

    dependencies = [
        ('pilots', '0007_employer_users_and_verifiers'),
        ('workers', '0006_provenance_of_facts'),
    ]

    operations = [migrations.RunSQL(FORWARD, reverse_sql=BACKWARD)]
