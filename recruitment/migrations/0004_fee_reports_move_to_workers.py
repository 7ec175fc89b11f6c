# Fee reports are facts about a worker: the model moves to ``workers`` (its migration 0005), rows and all.
# Here the history triggers on the old tables go (workers installs its own once the tables are its) and
# the two models leave this app's state. No table is dropped: workers renames them.

import pgtrigger.migrations
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('recruitment', '0003_recorded_times_settable'),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(model_name='feereport', name='insert_insert'),
        pgtrigger.migrations.RemoveTrigger(model_name='feereport', name='update_update'),
        pgtrigger.migrations.RemoveTrigger(model_name='feereport', name='delete_delete'),
        pgtrigger.migrations.RemoveTrigger(model_name='feereportevent', name='append_only'),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(model_name='feereportevent', name='pgh_obj'),
                migrations.RemoveField(model_name='feereportevent', name='pgh_context'),
                migrations.RemoveField(model_name='feereportevent', name='recruiter'),
                migrations.RemoveField(model_name='feereportevent', name='reported_by'),
                migrations.RemoveField(model_name='feereportevent', name='worker'),
                migrations.DeleteModel(name='FeeReport'),
                migrations.DeleteModel(name='FeeReportEvent'),
            ],
            database_operations=[],
        ),
    ]
