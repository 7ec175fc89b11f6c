from django.db import migrations

from workers.models import document_tail_hash_of


def fill_tail_hashes(apps, schema_editor):
    """Existing workers get the hash of the characters their masked document number shows, which every
    later write keeps in step (one UPDATE per 5,000 rows; each number decrypted once, here only)."""
    from psycopg2.extras import execute_values

    Worker = apps.get_model("workers", "Worker")
    rows = (
        Worker.objects.exclude(identity_document_number=None)
        .only("id", "identity_document_number")
        .order_by("id")
        .iterator(chunk_size=5000)
    )
    sql = (
        "UPDATE workers_worker AS w SET identity_document_tail_hash = v.tail"
        " FROM (VALUES %s) AS v (id, tail) WHERE w.id = v.id"
    )
    batch = []
    with schema_editor.connection.cursor() as cursor:
        for worker in rows:
            tail = document_tail_hash_of(worker.identity_document_number)
            if tail:
                batch.append((worker.id, tail))
            if len(batch) == 5000:
                execute_values(cursor.cursor, sql, batch, page_size=5000)
                batch = []
        if batch:
            execute_values(cursor.cursor, sql, batch, page_size=5000)


class Migration(migrations.Migration):
    dependencies = [
        ("workers", "0010_document_tail_hash_and_sort_indexes"),
    ]

    operations = [
        migrations.RunPython(fill_tail_hashes, migrations.RunPython.noop, elidable=True),
    ]
