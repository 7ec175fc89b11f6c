# API tokens and idempotency records are the REST API's plumbing: the models move to ``lamp`` (its
# migration 0001, which renames their tables, rows and all). Here they only leave this app's state.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('pilots', '0005_idempotency_answer_encrypted'),
        ('lamp', '0001_api_plumbing_from_pilots'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(model_name='idempotencyrecord', name='user'),
                migrations.DeleteModel(name='ApiToken'),
                migrations.DeleteModel(name='IdempotencyRecord'),
            ],
            database_operations=[],
        ),
    ]
