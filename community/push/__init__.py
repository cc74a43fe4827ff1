"""Push notifications that reach a closed app: Web Push (browsers, installed web apps,
UnifiedPush), FCM (Android apps) and APNs (iOS apps), delivered by background jobs."""
