"""``storyboard review``: a local web page to watch takes, pick them, and see the edit."""

from storyboard.review.app import create_review_app
from storyboard.review.server import ReviewServer, new_token
from storyboard.review.service import ReviewService

__all__ = ["ReviewServer", "ReviewService", "create_review_app", "new_token"]
