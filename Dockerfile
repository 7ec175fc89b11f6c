# The platform's image: one image for the web server (gunicorn), the Celery worker and Celery beat.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    LAMP_ENV=production \
    LAMP_STATE_DIR=/var/lib/lamp \
    MEDIA_ROOT=/var/lib/lamp/media \
    STATIC_ROOT=/app/staticfiles

WORKDIR /app

# Dependencies first, from pyproject.toml alone, so a change of code does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The code runs from /app: the settings find templates/ and manage.py beside the packages (BASE_DIR),
# so the project is installed in place (-e) rather than copied a second time into site-packages.
COPY . .
RUN pip install --no-deps -e .

# The translations are compiled at build time (pure Python: no GNU gettext in the image).
RUN python -m lamp.i18n

# Static files are collected at build time, with no secrets and no database. Production settings refuse to load
# without strong secrets; LAMP_BUILD=1, set for this command only (never in ENV), allows `collectstatic` alone,
# with throwaway secrets made for the process and no allowed host (README, "Configuration").
RUN LAMP_BUILD=1 python manage.py collectstatic --noinput

RUN useradd --system --uid 10001 --home-dir /var/lib/lamp --no-create-home lamp \
    && mkdir -p /var/lib/lamp/media \
    && chown -R lamp:lamp /var/lib/lamp
USER lamp

EXPOSE 8000
# Workers: gunicorn reads WEB_CONCURRENCY (default 1).
CMD ["gunicorn", "lamp.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
