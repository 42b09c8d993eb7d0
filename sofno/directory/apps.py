from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "sofno.directory"
    label = "directory"
    verbose_name = "Directory"

    def ready(self) -> None:
        from sofno.core.hooks import register_demo_seeder
        from sofno.directory import demo, signals  # noqa: F401  (connects receivers)

        register_demo_seeder(demo.seed)
