"""Dates of birth become an encrypted column with the birth year and a keyed hash beside it, and reveals of
personal data get their log. The existing dates are sealed by the next migration, in a transaction of its
own: PostgreSQL refuses to change a table in the transaction that updated its rows."""

import django.contrib.postgres.fields
import django.db.models.deletion
import django.utils.timezone
import encrypted_fields.fields
import workers.models
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('pilots', '0010_user_language'),
        ('recruitment', '0004_fee_reports_move_to_workers'),
        ('workers', '0011_fill_document_tail_hashes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='PersonalDataAccess',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('fields', django.contrib.postgres.fields.ArrayField(base_field=models.CharField(choices=[('date_of_birth', 'Date of birth'), ('identity_document_number', 'Identity document number'), ('phone', 'Phone'), ('email', 'Email')], max_length=30), size=None)),
                ('reason', models.TextField()),
                ('channel', models.CharField(choices=[('dashboard', 'Dashboard'), ('api', 'API')], max_length=20)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('expires_at', models.DateTimeField()),
            ],
            options={
                'verbose_name': 'personal data access',
                'verbose_name_plural': 'personal data accesses',
                'ordering': ['-created_at', '-id'],
            },
        ),
        migrations.RemoveIndex(
            model_name='worker',
            name='workers_wor_family__404dda_idx',
        ),
        migrations.AddField(
            model_name='worker',
            name='birth_year',
            field=workers.models.BirthYearField(),
        ),
        migrations.AddField(
            model_name='worker',
            name='date_of_birth_hash',
            field=workers.models.BirthDateHashField(),
        ),
        migrations.AlterField(
            model_name='worker',
            name='date_of_birth',
            field=encrypted_fields.fields.EncryptedDateField(null=True),
        ),
        migrations.AddField(
            model_name='personaldataaccess',
            name='user',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='personaldataaccess',
            name='worker',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='personal_data_accesses', to='workers.worker'),
        ),
        migrations.AddIndex(
            model_name='personaldataaccess',
            index=models.Index(fields=['worker', '-created_at'], name='personal_access_by_worker'),
        ),
        migrations.AddConstraint(
            model_name='personaldataaccess',
            constraint=models.CheckConstraint(condition=models.Q(('expires_at__gt', models.F('created_at'))), name='personal_access_expires_later'),
        ),
        migrations.AddConstraint(
            model_name='personaldataaccess',
            constraint=models.CheckConstraint(condition=models.Q(('reason', ''), _negated=True), name='personal_access_has_reason'),
        ),
        migrations.AddConstraint(
            model_name='personaldataaccess',
            constraint=models.CheckConstraint(condition=models.Q(('fields__len__gt', 0)), name='personal_access_names_fields'),
        ),
        migrations.AddConstraint(
            model_name='personaldataaccess',
            constraint=models.CheckConstraint(condition=models.Q(('channel__in', ['dashboard', 'api'])), name='personal_access_channel_valid'),
        ),
    ]
