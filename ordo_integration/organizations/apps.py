from django.apps import AppConfig


class OrganizationsConfig(AppConfig):
    name = "ordo_integration.organizations"
    verbose_name = "Manage organization"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from ordo_integration import checks  # noqa: F401  (registers the system checks)

        from . import roles

        # New models arrive with later migrations; keep the role groups' permissions complete.
        post_migrate.connect(roles.sync_role_groups_after_migrate, dispatch_uid="sync-role-groups")
