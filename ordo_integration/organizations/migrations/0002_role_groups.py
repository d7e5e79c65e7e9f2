"""The two roles as Django groups, with the permissions of the models that exist so far.

Permissions of models added by later migrations are added by the post_migrate handler in
``organizations.roles`` (same mapping), so the groups stay complete as the schema grows.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLE_GROUPS = {
    "Ordo Admin": {
        "organization": ("view", "change"),
        "membership": ("view",),
        "brand": ("add", "change", "delete", "view"),
        "license": ("add", "change", "delete", "view"),
    },
    "Sales Agent": {"brand": ("view",), "license": ("view",)},
}


def create_role_groups(apps, schema_editor):
    app_config = apps.get_app_config("organizations")
    app_config.models_module = True  # historical app configs lack it; create_permissions needs it
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, models in ROLE_GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        codenames = [f"{action}_{model}" for model, actions in models.items() for action in actions]
        group.permissions.add(
            *Permission.objects.filter(
                content_type__app_label="organizations", codename__in=codenames
            )
        )


def remove_role_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("organizations", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_role_groups, remove_role_groups)]
