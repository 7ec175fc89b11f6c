# API tokens and idempotency records are the REST API's plumbing, shared by every app's endpoints: they
# move here from ``pilots``. Their tables are renamed, rows and all; this app takes the models into its
# state, and pilots' migration 0006 lets them go.

import django.db.models.deletion
import encrypted_fields.fields
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ('contenttypes', '0002_remove_content_type_name'),
        ('pilots', '0005_idempotency_answer_encrypted'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    'ALTER TABLE pilots_apitoken RENAME TO lamp_apitoken', reverse_sql='ALTER TABLE lamp_apitoken RENAME TO pilots_apitoken'
                ),
                migrations.RunSQL(
                    'ALTER TABLE pilots_idempotencyrecord RENAME TO lamp_idempotencyrecord', reverse_sql='ALTER TABLE lamp_idempotencyrecord RENAME TO pilots_idempotencyrecord'
                ),
                migrations.RunSQL(
                    'ALTER INDEX pilots_idem_created_6a1e3a_idx RENAME TO idempotency_record_created_at', reverse_sql='ALTER INDEX idempotency_record_created_at RENAME TO pilots_idem_created_6a1e3a_idx'
                ),
                # The admin's change log and the permissions follow the rows: their content types move too.
                migrations.RunSQL(
                    "UPDATE django_content_type SET app_label = 'lamp' "
                    "WHERE app_label = 'pilots' AND model IN ('apitoken', 'idempotencyrecord')",
                    reverse_sql="UPDATE django_content_type SET app_label = 'pilots' "
                    "WHERE app_label = 'lamp' AND model IN ('apitoken', 'idempotencyrecord')",
                ),
            ],
            state_operations=[
                migrations.CreateModel(
                    name='ApiToken',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(help_text='What the token is for, e.g. “Agency CRM sync”.', max_length=100)),
                        ('prefix', models.CharField(editable=False, max_length=8)),
                        ('key_hash', models.CharField(editable=False, max_length=64, unique=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('expires_at', models.DateTimeField(blank=True, null=True)),
                        ('last_used_at', models.DateTimeField(blank=True, editable=False, null=True)),
                        ('revoked_at', models.DateTimeField(blank=True, editable=False, null=True)),
                        ('revoked_by', models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='api_tokens', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name': 'API token',
                        'ordering': ['-created_at', '-id'],
                        'constraints': [models.CheckConstraint(condition=models.Q(('key_hash__regex', '^[0-9a-f]{64}$')), name='api_token_key_hash_is_sha256')],
                    },
                ),
                migrations.CreateModel(
                    name='IdempotencyRecord',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('key', models.CharField(max_length=255)),
                        ('method', models.CharField(max_length=10)),
                        ('path', models.CharField(max_length=2000)),
                        ('request_fingerprint', models.CharField(help_text="SHA-256 of the request's body.", max_length=64)),
                        ('status_code', models.PositiveSmallIntegerField(blank=True, help_text='Empty while in progress.', null=True)),
                        ('response_body', encrypted_fields.fields.EncryptedTextField(blank=True, null=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'ordering': ['-created_at', '-id'],
                        'indexes': [models.Index(fields=['created_at'], name='idempotency_record_created_at')],
                        'constraints': [models.UniqueConstraint(fields=('user', 'key'), name='idempotency_key_unique_per_user')],
                    },
                ),
            ],
        ),
    ]
