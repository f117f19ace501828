from django.urls import path

from feeds import views

app_name = "feeds"

urlpatterns = [
    path("rss/updates.xml", views.latest_updates, name="updates"),
    path("rss/packages.xml", views.newest_packages, name="packages"),
    path("rss/project/<str:name>/releases.xml", views.project_releases, name="project-releases"),
]
