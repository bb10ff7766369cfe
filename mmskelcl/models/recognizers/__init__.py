from .aux_recognizer import AuxRecognizerGCN, strip_aux_state

__all__ = ['AuxRecognizerGCN', 'strip_aux_state']
