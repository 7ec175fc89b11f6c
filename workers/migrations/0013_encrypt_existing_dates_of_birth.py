import datetime

import workers.models
from django.db import migrations

BATCH = 5000


def encrypt_dates_of_birth(apps, schema_editor):
    """Existing workers' dates of birth (now text in the column, still in clear) encrypted in place, with the
    year and the keyed hash filled beside them: one UPDATE per 5,000 rows, each date read once, here only."""
    from psycopg2.extras import execute_values

    field = apps.get_model("workers", "Worker")._meta.get_field("date_of_birth")
    sql = (
        "UPDATE workers_worker AS w SET date_of_birth = v.sealed, birth_year = v.year, date_of_birth_hash = v.digest"
        " FROM (VALUES %s) AS v (id, sealed, year, digest) WHERE w.id = v.id"
    )
    with schema_editor.connection.cursor() as reader, schema_editor.connection.cursor() as writer:
        # Dates in clear are ten characters (YYYY-MM-DD); a Fernet token is a hundred: rows already sealed
        # (a migration run twice) are left alone.
        reader.execute(
            "SELECT id, date_of_birth FROM workers_worker WHERE length(date_of_birth) = 10 ORDER BY id"
        )
        while rows := reader.fetchmany(BATCH):
            batch = []
            for pk, text in rows:
                born = datetime.date.fromisoformat(text)
                batch.append((pk, field.get_prep_value(born), born.year, workers.models.birth_date_hash(born)))
            execute_values(writer.cursor, sql, batch, page_size=BATCH)


def decrypt_dates_of_birth(apps, schema_editor):
    """Back: the dates in clear again (as text, which the reversed column change casts to dates)."""
    from psycopg2.extras import execute_values

    field = apps.get_model("workers", "Worker")._meta.get_field("date_of_birth")
    sql = "UPDATE workers_worker AS w SET date_of_birth = v.born FROM (VALUES %s) AS v (id, born) WHERE w.id = v.id"
    with schema_editor.connection.cursor() as reader, schema_editor.connection.cursor() as writer:
        reader.execute("SELECT id, date_of_birth FROM workers_worker WHERE length(date_of_birth) > 10 ORDER BY id")
        while rows := reader.fetchmany(BATCH):
            batch = [(pk, field.to_python(sealed).isoformat()) for pk, sealed in rows]
            execute_values(writer.cursor, sql, batch, page_size=BATCH)



class Migration(migrations.Migration):
    """The dates of birth already stored, sealed in place (its own transaction: see 0012)."""

    dependencies = [
        ('workers', '0012_encrypt_date_of_birth'),
    ]

    operations = [
        migrations.RunPython(encrypt_dates_of_birth, decrypt_dates_of_birth),
    ]
