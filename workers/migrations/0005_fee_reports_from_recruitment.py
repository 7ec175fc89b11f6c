# Fee reports are facts about a worker: the model and its history move here from ``recruitment``. The
# tables and their indexes are renamed, rows and history all kept; this app takes the models into its
# state, then installs the history triggers on the renamed tables (recruitment's 0004 removed the old).

import django.core.validators
import django.db.models.deletion
import django.utils.timezone
import lamp.fields
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('pghistory', '0007_auto_20250421_0444'),
        ('recruitment', '0004_fee_reports_move_to_workers'),
        ('workers', '0004_worker_list_reads'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    'ALTER TABLE recruitment_feereport RENAME TO workers_feereport', reverse_sql='ALTER TABLE workers_feereport RENAME TO recruitment_feereport'
                ),
                migrations.RunSQL(
                    'ALTER TABLE recruitment_feereportevent RENAME TO workers_feereportevent', reverse_sql='ALTER TABLE workers_feereportevent RENAME TO recruitment_feereportevent'
                ),
                migrations.RunSQL(
                    'ALTER INDEX recruitment_worker__deee19_idx RENAME TO fee_report_worker_recruiter', reverse_sql='ALTER INDEX fee_report_worker_recruiter RENAME TO recruitment_worker__deee19_idx'
                ),
                migrations.RunSQL(
                    'ALTER INDEX recruitment_recruit_f3bbe3_idx RENAME TO fee_report_recruiter_category', reverse_sql='ALTER INDEX fee_report_recruiter_category RENAME TO recruitment_recruit_f3bbe3_idx'
                ),
                # The admin's change log and the permissions follow the rows: their content types move too.
                migrations.RunSQL(
                    "UPDATE django_content_type SET app_label = 'workers' "
                    "WHERE app_label = 'recruitment' AND model IN ('feereport', 'feereportevent')",
                    reverse_sql="UPDATE django_content_type SET app_label = 'recruitment' "
                    "WHERE app_label = 'workers' AND model IN ('feereport', 'feereportevent')",
                ),
            ],
            state_operations=[
                migrations.CreateModel(
                    name='FeeReport',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('category', models.CharField(choices=[('recruitment_fee', 'Recruitment fee'), ('medical', 'Medical costs'), ('insurance', 'Insurance'), ('skills_tests', 'Skills and qualification tests'), ('training', 'Training and orientation'), ('equipment', 'Equipment'), ('travel_lodging', 'Travel and lodging'), ('administrative', 'Administrative (passports, visas, permits, documents)'), ('illegitimate', 'Illegitimate costs (bribes, kickbacks, deposits, bonds)'), ('other', 'Other')], max_length=20)),
                        ('amount', lamp.fields.MoneyField(decimal_places=3, max_digits=15, validators=[django.core.validators.MinValueValidator(0)])),
                        ('currency', lamp.fields.CurrencyField()),
                        ('paid_to', models.CharField(blank=True, help_text='Who received the money, as reported.', max_length=200)),
                        ('paid_on', models.DateField(blank=True, null=True)),
                        ('recovered_by_wage_deduction', models.BooleanField(default=False, help_text="Taken from the worker's wages: it counts as a fee all the same.")),
                        ('source', models.CharField(choices=[('worker_survey', 'Worker survey'), ('recruiter', 'Recruiter'), ('staff', 'Program staff')], max_length=20)),
                        ('reported_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('note', models.TextField(blank=True)),
                        ('recruiter', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='fee_reports', to='recruitment.recruiter')),
                        ('reported_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('worker', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='fee_reports', to='workers.worker')),
                    ],
                    options={
                        'ordering': ['-reported_at', '-id'],
                    },
                ),
                migrations.CreateModel(
                    name='FeeReportEvent',
                    fields=[
                        ('pgh_id', models.AutoField(primary_key=True, serialize=False)),
                        ('pgh_created_at', models.DateTimeField(auto_now_add=True)),
                        ('pgh_label', models.TextField(help_text='The event label.')),
                        ('id', models.BigIntegerField()),
                        ('category', models.CharField(choices=[('recruitment_fee', 'Recruitment fee'), ('medical', 'Medical costs'), ('insurance', 'Insurance'), ('skills_tests', 'Skills and qualification tests'), ('training', 'Training and orientation'), ('equipment', 'Equipment'), ('travel_lodging', 'Travel and lodging'), ('administrative', 'Administrative (passports, visas, permits, documents)'), ('illegitimate', 'Illegitimate costs (bribes, kickbacks, deposits, bonds)'), ('other', 'Other')], max_length=20)),
                        ('amount', lamp.fields.MoneyField(decimal_places=3, max_digits=15, validators=[django.core.validators.MinValueValidator(0)])),
                        ('currency', lamp.fields.CurrencyField()),
                        ('paid_to', models.CharField(blank=True, help_text='Who received the money, as reported.', max_length=200)),
                        ('paid_on', models.DateField(blank=True, null=True)),
                        ('recovered_by_wage_deduction', models.BooleanField(default=False, help_text="Taken from the worker's wages: it counts as a fee all the same.")),
                        ('source', models.CharField(choices=[('worker_survey', 'Worker survey'), ('recruiter', 'Recruiter'), ('staff', 'Program staff')], max_length=20)),
                        ('reported_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('note', models.TextField(blank=True)),
                        ('pgh_context', models.ForeignKey(db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='pghistory.context')),
                        ('pgh_obj', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='events', to='workers.feereport')),
                        ('recruiter', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to='recruitment.recruiter')),
                        ('reported_by', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to=settings.AUTH_USER_MODEL)),
                        ('worker', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to='workers.worker')),
                    ],
                    options={
                        'abstract': False,
                    },
                ),
                migrations.AddIndex(
                    model_name='feereport',
                    index=models.Index(fields=['worker', 'recruiter'], name='fee_report_worker_recruiter'),
                ),
                migrations.AddIndex(
                    model_name='feereport',
                    index=models.Index(fields=['recruiter', 'category'], name='fee_report_recruiter_category'),
                ),
                migrations.AddConstraint(
                    model_name='feereport',
                    constraint=models.CheckConstraint(condition=models.Q(('amount__gte', 0)), name='fee_report_amount_not_negative'),
                ),
                migrations.AddConstraint(
                    model_name='feereport',
                    constraint=models.CheckConstraint(condition=models.Q(('category__in', ['recruitment_fee', 'medical', 'insurance', 'skills_tests', 'training', 'equipment', 'travel_lodging', 'administrative', 'illegitimate', 'other'])), name='fee_report_category_valid'),
                ),
                migrations.AddConstraint(
                    model_name='feereport',
                    constraint=models.CheckConstraint(condition=models.Q(('source__in', ['worker_survey', 'recruiter', 'staff'])), name='fee_report_source_valid'),
                ),
            ],
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='feereport',
            trigger=pgtrigger.compiler.Trigger(name='insert_insert', sql=pgtrigger.compiler.UpsertTriggerSql(func='WITH _pgh_attached_context AS ( SELECT _pgh_attach_context() AS value ) INSERT INTO "workers_feereportevent" ("amount", "category", "currency", "id", "note", "paid_on", "paid_to", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "recovered_by_wage_deduction", "recruiter_id", "reported_at", "reported_by_id", "source", "worker_id") SELECT new_values."amount", new_values."category", new_values."currency", new_values."id", new_values."note", new_values."paid_on", new_values."paid_to", _pgh_attached_context.value, NOW(), \'insert\', new_values."id", new_values."recovered_by_wage_deduction", new_values."recruiter_id", new_values."reported_at", new_values."reported_by_id", new_values."source", new_values."worker_id" FROM ( SELECT new_values.* FROM new_values  ) AS new_values, _pgh_attached_context; RETURN NULL;', hash='dea611e77670bcfd84f92ccc9c67ef01ed14d872', level='STATEMENT', operation='INSERT', pgid='pgtrigger_insert_insert_1dc93', referencing='REFERENCING NEW TABLE AS new_values ', table='workers_feereport', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='feereport',
            trigger=pgtrigger.compiler.Trigger(name='update_update', sql=pgtrigger.compiler.UpsertTriggerSql(func='WITH _pgh_attached_context AS ( SELECT _pgh_attach_context() AS value ) INSERT INTO "workers_feereportevent" ("amount", "category", "currency", "id", "note", "paid_on", "paid_to", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "recovered_by_wage_deduction", "recruiter_id", "reported_at", "reported_by_id", "source", "worker_id") SELECT new_values."amount", new_values."category", new_values."currency", new_values."id", new_values."note", new_values."paid_on", new_values."paid_to", _pgh_attached_context.value, NOW(), \'update\', new_values."id", new_values."recovered_by_wage_deduction", new_values."recruiter_id", new_values."reported_at", new_values."reported_by_id", new_values."source", new_values."worker_id" FROM ( SELECT new_values.* FROM old_values JOIN new_values ON (old_values."id") = (new_values."id") WHERE (old_values.* IS DISTINCT FROM new_values.*) ) AS new_values, _pgh_attached_context; RETURN NULL;', hash='f2d20852ca795baa7d3287720f52e963de30672f', level='STATEMENT', operation='UPDATE', pgid='pgtrigger_update_update_8ccd0', referencing='REFERENCING OLD TABLE AS old_values  NEW TABLE AS new_values ', table='workers_feereport', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='feereport',
            trigger=pgtrigger.compiler.Trigger(name='delete_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func='WITH _pgh_attached_context AS ( SELECT _pgh_attach_context() AS value ) INSERT INTO "workers_feereportevent" ("amount", "category", "currency", "id", "note", "paid_on", "paid_to", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "recovered_by_wage_deduction", "recruiter_id", "reported_at", "reported_by_id", "source", "worker_id") SELECT old_values."amount", old_values."category", old_values."currency", old_values."id", old_values."note", old_values."paid_on", old_values."paid_to", _pgh_attached_context.value, NOW(), \'delete\', old_values."id", old_values."recovered_by_wage_deduction", old_values."recruiter_id", old_values."reported_at", old_values."reported_by_id", old_values."source", old_values."worker_id" FROM ( SELECT old_values.* FROM old_values  ) AS old_values, _pgh_attached_context; RETURN NULL;', hash='015c6396e5ddaf17e59417906343f1c67d416395', level='STATEMENT', operation='DELETE', pgid='pgtrigger_delete_delete_622c0', referencing='REFERENCING OLD TABLE AS old_values ', table='workers_feereport', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='feereportevent',
            trigger=pgtrigger.compiler.Trigger(name='append_only', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;", hash='0e0d917c01bc62e344c0657eefabea37d49dcea7', operation='UPDATE OR DELETE', pgid='pgtrigger_append_only_044d9', table='workers_feereportevent', when='BEFORE')),
        ),
    ]
